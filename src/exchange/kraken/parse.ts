// Owns turning parsed Kraken records into the port's types: orders, trades, key rights, and the
// client order id rules Kraken applies to cl_ord_id.
import { Decimal } from '../../money.js';
import { ExchangeError } from '../errors.js';
import type { ApiKeyRights, ExchangeTrade, OrderState } from '../types.js';
import type { KrakenOrder, KrakenTrade } from './schemas.js';

/** TradesHistory answers at most 50 trades a page. */
export const KRAKEN_PAGE_SIZE = 50;

const STATUS: Record<KrakenOrder['status'], OrderState['status']> = {
  pending: 'open', open: 'open', closed: 'closed', canceled: 'canceled', expired: 'canceled',
};

/**
 * An order as the port shows it, with the fills listed for it (`trades`, from QueryTrades). Kraken's
 * `price` is the average price of what filled and `fee` the total fee in the quote currency.
 */
export function orderStateOf(txid: string, o: KrakenOrder, symbol: string, trades: ExchangeTrade[] = []): OrderState {
  const filled = new Decimal(o.vol_exec);
  return {
    exchangeOrderId: txid,
    clientOrderId: clientOrderIdOf(o),
    symbol,
    side: o.descr.type,
    status: STATUS[o.status],
    quantity: o.vol,
    filledQuantity: filled.toFixed(),
    averagePrice: filled.isZero() || o.price === undefined ? null : o.price,
    ...(o.fee !== undefined ? { feeQuote: o.fee } : {}),
    trades,
  };
}

/** Kraken lists userref 0 on an order placed without one: that is no client order id. */
function clientOrderIdOf(o: KrakenOrder): string {
  return o.cl_ord_id ?? (o.userref === null || o.userref === undefined || o.userref === 0 ? '' : String(o.userref));
}

/** The trade ids Kraken listed for an order (QueryOrders/OpenOrders/ClosedOrders with trades=true). */
export function tradeIdsOf(o: KrakenOrder): string[] {
  return o.trades ?? [];
}

/** Kraken's oflags say where the fee was charged: fcib = in the base asset, otherwise in the quote. */
export function feeChargedInBase(o: Pick<KrakenOrder, 'oflags'> | undefined): boolean {
  return (o?.oflags ?? '').split(',').includes('fcib');
}

/**
 * A Kraken trade in the port's shape. Kraken reports a trade's `fee` in the quote currency even when
 * it deducted the fee in the base asset (fcib); when the order says so, the charged fee is that
 * amount in the base asset (fee ÷ price), otherwise it is the quote fee as reported.
 */
export function tradeOf(id: string, t: KrakenTrade, symbol: string, quote: string | undefined, order?: KrakenOrder): ExchangeTrade {
  const [base, symbolQuote] = symbol.split('/');
  const quoteCurrency = quote ?? symbolQuote ?? '';
  const inBase = order !== undefined && feeChargedInBase(order) && base !== undefined && new Decimal(t.price).gt(0);
  return {
    id,
    orderId: t.ordertxid,
    ...(order ? { clientOrderId: clientOrderIdOf(order) } : {}),
    symbol,
    side: t.type,
    quantity: t.vol,
    price: t.price,
    fee: t.fee,
    feeCurrency: quoteCurrency,
    // Only for our own orders (we know their flags); TradesHistory alone cannot tell.
    ...(order
      ? inBase
        ? { chargedFee: new Decimal(t.fee).div(t.price).toDecimalPlaces(18).toFixed(), chargedFeeCurrency: base }
        : { chargedFee: t.fee, chargedFeeCurrency: quoteCurrency }
      : {}),
    timestamp: new Date(Math.round(t.time * 1000)),
  };
}

/**
 * The GetApiKeyInfo permission names the bot knows the meaning of. Any other name may grant
 * something the bot cannot see (a new withdraw or transfer right), so it is never read as "no".
 */
export const KNOWN_KEY_PERMISSIONS: ReadonlySet<string> = new Set([
  'query-funds', 'query-open-trades', 'query-closed-trades', 'modify-trades', 'close-trades', 'withdraw-funds',
]);

/**
 * Kraken permission names (GetApiKeyInfo) → the rights the bot cares about. Names it does not know
 * are listed in `unrecognisedPermissions`, and then withdrawal is not read from the names at all
 * (canWithdraw true until a withdraw-info probe shows otherwise): an unknown name fails closed.
 */
export function keyRightsFromPermissions(permissions: string[]): ApiKeyRights {
  const has = (p: string) => permissions.includes(p);
  const unrecognised = [...new Set(permissions.filter((p) => !KNOWN_KEY_PERMISSIONS.has(p)))].sort();
  return {
    canQuery: has('query-funds') && has('query-open-trades') && has('query-closed-trades'),
    canTrade: has('modify-trades'),
    canCancel: has('close-trades'),
    canWithdraw: has('withdraw-funds') || unrecognised.length > 0,
    source: 'key_info',
    ...(unrecognised.length > 0 ? { unrecognisedPermissions: unrecognised } : {}),
  };
}

/** Kraken's cl_ord_id: a UUID (with or without hyphens) or free text of up to 18 ASCII characters. */
export function validateClientOrderId(id: string): void {
  const uuid = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;
  if (uuid.test(id) || /^[\x21-\x7e]{1,18}$/.test(id)) return;
  throw new ExchangeError('rejected', 'bad_client_order_id', `Client order id "${id.slice(0, 40)}" is not one Kraken accepts.`, {
    hint: 'Use a UUID or at most 18 printable ASCII characters.',
  });
}
