// Owns what the executions channel has told about each order: its id, client id, pair, side, status,
// cumulative fill and the trades seen (by Kraken trade id, the `exec_id` of a trade, which is the
// trade id REST answers with). Each message changes some orders; each changed order is handed out in
// the port's OrderState shape. An order is reported final (closed / canceled) only when Kraken said
// so together with its cumulative quantity: without cum_qty the fills seen may be a part (a snapshot
// lists only the last 50 trades), so the order stays "open" and the REST follower finishes it.
import { Decimal } from '../../money.js';
import type { ExchangeTrade, OrderState, Side } from '../types.js';
import type { ExecutionEntry } from './ws-schemas.js';

interface BookOrder {
  orderId: string;
  clOrdId: string | undefined;
  symbol: string | undefined;
  side: Side | undefined;
  orderQty: string | undefined;
  status: ExecutionEntry['order_status'];
  cumQty: string | undefined;
  avgPrice: string | undefined;
  /** Kraken said the order ended (filled, canceled, expired) in an entry that carried cum_qty. */
  endedWithQty: boolean;
  trades: Map<string, ExchangeTrade>;
}

/** How many finished orders are kept (the newest): enough to answer read-backs and repeats. */
const KEEP_FINISHED = 500;

/** Kraken v2 names bitcoin BTC; older names (XBT) are read as the same asset. */
const asset = (name: string) => (name.toUpperCase() === 'XBT' ? 'BTC' : name.toUpperCase());

export interface ApplyResult {
  /** Every order this message changed, as the port shows it. */
  changed: OrderState[];
  /** Entries read but not usable (a trade without its id, a fee in a third currency), with why. */
  skipped: string[];
}

export class ExecutionsBook {
  readonly #orders = new Map<string, BookOrder>();

  apply(entries: ExecutionEntry[]): ApplyResult {
    const touched = new Set<BookOrder>();
    const skipped: string[] = [];
    for (const e of entries) {
      const o = this.#order(e.order_id);
      if (e.cl_ord_id) o.clOrdId = e.cl_ord_id;
      if (e.symbol) o.symbol = e.symbol;
      if (e.side) o.side = e.side;
      if (e.order_qty !== undefined) o.orderQty = e.order_qty;
      if (e.order_status) o.status = e.order_status;
      if (e.cum_qty !== undefined) o.cumQty = e.cum_qty;
      if (e.avg_price !== undefined && new Decimal(e.avg_price).gt(0)) o.avgPrice = e.avg_price;
      if (e.cum_qty !== undefined && (e.order_status === 'filled' || e.order_status === 'canceled' || e.order_status === 'expired')) o.endedWithQty = true;
      if (e.exec_type === 'trade') {
        const trade = tradeOf(e, o);
        if (typeof trade === 'string') skipped.push(`order ${e.order_id}: ${trade}`);
        else o.trades.set(trade.id, trade);
      }
      touched.add(o);
    }
    this.#prune();
    return { changed: [...touched].flatMap((o) => (o.symbol && o.side ? [stateOf(o)] : [])), skipped };
  }

  /** What the channel has told of this order so far (by Kraken order id), if anything. */
  get(orderId: string): OrderState | undefined {
    const o = this.#orders.get(orderId);
    return o && o.symbol && o.side ? stateOf(o) : undefined;
  }

  #order(orderId: string): BookOrder {
    let o = this.#orders.get(orderId);
    if (!o) {
      o = {
        orderId, clOrdId: undefined, symbol: undefined, side: undefined, orderQty: undefined, status: undefined,
        cumQty: undefined, avgPrice: undefined, endedWithQty: false, trades: new Map(),
      };
      this.#orders.set(orderId, o);
    }
    return o;
  }

  #prune(): void {
    const finished = [...this.#orders.values()].filter((o) => o.endedWithQty);
    for (const o of finished.slice(0, Math.max(0, finished.length - KEEP_FINISHED))) this.#orders.delete(o.orderId);
  }
}

/** A trade entry in the port's shape, or why it cannot be booked from here. */
function tradeOf(e: ExecutionEntry, o: BookOrder): ExchangeTrade | string {
  const symbol = e.symbol ?? o.symbol;
  const side = e.side ?? o.side;
  if (!e.exec_id) return 'a trade without exec_id (its trade id)';
  if (!symbol || !side) return `trade ${e.exec_id} without its pair or side`;
  if (e.last_qty === undefined || e.last_price === undefined) return `trade ${e.exec_id} without last_qty and last_price`;
  if (e.fees === undefined) return `trade ${e.exec_id} without fees`;
  const [base, quote] = symbol.split('/').map(asset) as [string, string];
  const price = new Decimal(e.last_price);
  let feeQuote = new Decimal(0);
  let charged: { fee: Decimal; currency: string } | undefined;
  for (const f of e.fees) {
    const a = asset(f.asset);
    if (a !== base && a !== quote) return `trade ${e.exec_id} charged its fee in ${f.asset}, neither ${base} nor ${quote}`;
    if (charged && charged.currency !== a) return `trade ${e.exec_id} charged fees in two currencies`;
    charged = { fee: (charged?.fee ?? new Decimal(0)).plus(f.qty), currency: a };
    // The ledger books fees in the quote currency: a fee charged in the base asset is worth qty × price.
    feeQuote = feeQuote.plus(a === quote ? new Decimal(f.qty) : new Decimal(f.qty).times(price));
  }
  return {
    id: e.exec_id,
    orderId: e.order_id,
    ...(e.cl_ord_id ?? o.clOrdId ? { clientOrderId: (e.cl_ord_id ?? o.clOrdId)! } : {}),
    symbol,
    side,
    quantity: e.last_qty,
    price: e.last_price,
    fee: feeQuote.toFixed(),
    feeCurrency: quote,
    chargedFee: (charged?.fee ?? new Decimal(0)).toFixed(),
    chargedFeeCurrency: charged?.currency ?? quote,
    timestamp: e.timestamp,
  };
}

function stateOf(o: BookOrder): OrderState {
  const trades = [...o.trades.values()];
  const listed = trades.reduce((s, t) => s.plus(t.quantity), new Decimal(0));
  const filled = o.cumQty !== undefined ? Decimal.max(new Decimal(o.cumQty), listed) : listed;
  const status: OrderState['status'] = !o.endedWithQty ? 'open' : o.status === 'filled' ? 'closed' : 'canceled';
  const value = trades.reduce((s, t) => s.plus(new Decimal(t.quantity).times(t.price)), new Decimal(0));
  const average = o.avgPrice ?? (listed.gt(0) ? value.div(listed).toDecimalPlaces(18).toFixed() : null);
  return {
    exchangeOrderId: o.orderId,
    clientOrderId: o.clOrdId ?? '',
    symbol: o.symbol!,
    side: o.side!,
    status,
    quantity: o.orderQty ?? filled.toFixed(),
    filledQuantity: filled.toFixed(),
    averagePrice: filled.gt(0) ? average : null,
    trades,
    via: 'stream',
  };
}
