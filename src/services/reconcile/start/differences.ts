// Owns deciding what the bot cannot explain about Kraken: a pure function over Kraken's open orders
// and its trades since the last reconciled point, against the live order intents and ledger fills
// that could explain them. Kraken's trades carry the order's txid (ordertxid), not our client order id,
// so a trade is tied to an intent through the intent's exchange_order_id, and to the ledger through
// the fill's exchange_trade_id (or, for a fill recorded before its trade id was known, its order id —
// the reconcile service's matcher). Anything left over is a difference: no strategy runs until each is
// adopted, cancelled, or the ledger corrected.
import type { OrderIntent } from '../../../db/schema/index.js';
import { isUnsettled } from '../../../domain/order-status.js';
import type { ExchangeTrade, OrderState } from '../../../exchange/types.js';
import { matchTrades, type LedgerFill, type MismatchField } from '../match.js';

export type DifferenceKind =
  /** Open on Kraken; no intent of the bot knows it (by txid or client order id). Adopt (with a client order id) or cancel. */
  | 'unknown_order'
  /** Open on Kraken; the bot's intent says it ended (filled, cancelled, failed…). Adopt (follow it again) or cancel. */
  | 'order_closed_in_ledger'
  /** A Kraken trade of an order no intent knows: not the bot's. Adopt records it in the ledger as an external order. */
  | 'unknown_fill'
  /** A Kraken trade of the bot's own order that the ledger lacks. Adopt records it through the order's ledger path. */
  | 'unrecorded_fill'
  /** A ledger fill whose Kraken trade differs (quantity, price, fee, side, pair). Correct the ledger by hand. */
  | 'fill_mismatch'
  /** A ledger fill since the reconciled point that Kraken's history does not have. Correct the ledger by hand. */
  | 'fill_not_on_kraken';

export interface Difference {
  kind: DifferenceKind;
  /** The Kraken id an operator names to resolve it: the order txid, or the trade id for fills. */
  id: string;
  /** The Kraken order it belongs to (orders: the same as id; trades: their ordertxid). */
  orderId: string | null;
  symbol: string;
  side: 'buy' | 'sell';
  quantity: string;
  price: string | null;
  fee: string | null;
  at: string | null;
  clientOrderId: string | null;
  intentId: number | null;
  intentStatus: string | null;
  fillId: number | null;
  fields: MismatchField[];
  /** One line for people: what it is and what can be done. */
  summary: string;
}

export type IntentView = Pick<OrderIntent, 'id' | 'clientOrderId' | 'exchangeOrderId' | 'status' | 'symbol' | 'side' | 'purpose'>;

export interface CompareInput {
  openOrders: OrderState[];
  trades: ExchangeTrade[];
  /** Live intents that may explain them (those whose txid or client order id appears, at least). */
  intents: IntentView[];
  /** Live ledger fills in the window, and any whose trade id appears. */
  fills: LedgerFill[];
}

function blank(kind: DifferenceKind, id: string): Difference {
  return {
    kind, id, orderId: null, symbol: '', side: 'buy', quantity: '0', price: null, fee: null, at: null, clientOrderId: null,
    intentId: null, intentStatus: null, fillId: null, fields: [], summary: '',
  };
}

export function compareWithKraken(input: CompareInput): Difference[] {
  const byTxid = new Map<string, IntentView>();
  const byClientId = new Map<string, IntentView>();
  for (const i of input.intents) {
    if (i.exchangeOrderId) byTxid.set(i.exchangeOrderId, i);
    byClientId.set(i.clientOrderId, i);
  }
  const out: Difference[] = [];

  for (const o of input.openOrders) {
    const intent = byTxid.get(o.exchangeOrderId) ?? (o.clientOrderId ? byClientId.get(o.clientOrderId) : undefined);
    const base = {
      ...blank('unknown_order', o.exchangeOrderId), orderId: o.exchangeOrderId, symbol: o.symbol, side: o.side, quantity: o.quantity,
      price: o.averagePrice, clientOrderId: o.clientOrderId || null,
    };
    if (!intent) {
      out.push({ ...base, summary: `open ${o.side} ${o.quantity} ${o.symbol} (filled ${o.filledQuantity}) that no order of the bot explains${o.clientOrderId ? ` (client order id ${o.clientOrderId})` : ''}` });
    } else if (!isUnsettled(intent.status)) {
      out.push({
        ...base, kind: 'order_closed_in_ledger', intentId: intent.id, intentStatus: intent.status,
        summary: `open ${o.side} ${o.quantity} ${o.symbol} on Kraken, but the bot's intent #${intent.id} says it is ${intent.status}`,
      });
    }
  }

  const matched = matchTrades(input.fills, input.trades, { legacyBefore: null });
  for (const m of matched.mismatched) {
    const t = m.trade;
    out.push({
      ...blank('fill_mismatch', t.id), orderId: t.orderId, symbol: t.symbol, side: t.side, quantity: t.quantity, price: t.price, fee: t.fee,
      at: t.timestamp.toISOString(), fillId: m.fill.id, clientOrderId: m.fill.clientOrderId, fields: m.fields,
      summary: `ledger fill #${m.fill.id} disagrees with Kraken trade ${t.id} on ${m.fields.join(', ')} (ledger ${m.fields.map((f) => `${f} ${String(m.fill[f])}`).join(', ')})`,
    });
  }
  for (const f of matched.missingOnExchange) {
    out.push({
      ...blank('fill_not_on_kraken', f.exchangeTradeId), orderId: f.exchangeOrderId, symbol: f.symbol, side: f.side, quantity: f.quantity, price: f.price, fee: f.fee,
      at: new Date(f.filledAtMs).toISOString(), fillId: f.id, clientOrderId: f.clientOrderId,
      summary: `ledger fill #${f.id} (${f.side} ${f.quantity} ${f.symbol}, trade ${f.exchangeTradeId}) is not in Kraken's trade history`,
    });
  }
  for (const t of matched.recentUnmatched) {
    const intent = byTxid.get(t.orderId) ?? (t.clientOrderId ? byClientId.get(t.clientOrderId) : undefined);
    const base = {
      ...blank(intent ? 'unrecorded_fill' : 'unknown_fill', t.id), orderId: t.orderId, symbol: t.symbol, side: t.side, quantity: t.quantity,
      price: t.price, fee: t.fee, at: t.timestamp.toISOString(),
    };
    out.push(intent
      ? { ...base, intentId: intent.id, intentStatus: intent.status, clientOrderId: intent.clientOrderId, summary: `Kraken filled ${t.side} ${t.quantity} ${t.symbol} @ ${t.price} for the bot's order ${t.orderId} (intent #${intent.id}), but the ledger lacks it` }
      : { ...base, summary: `Kraken filled ${t.side} ${t.quantity} ${t.symbol} @ ${t.price} (order ${t.orderId}) that no order of the bot explains` });
  }
  return out;
}
