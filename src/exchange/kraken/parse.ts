// Owns turning parsed Kraken records into the port's types: orders, trades, key rights, and the
// client order id rules Kraken applies to cl_ord_id.
import { Dec as Decimal } from '../../decimal.js';
import { ExchangeError } from '../errors.js';
import type { ApiKeyRights, ExchangeTrade, OrderState } from '../types.js';
import type { KrakenOrder, KrakenTrade } from './schemas.js';

/** TradesHistory answers at most 50 trades a page. */
export const KRAKEN_PAGE_SIZE = 50;

const STATUS: Record<KrakenOrder['status'], OrderState['status']> = {
  pending: 'open', open: 'open', closed: 'closed', canceled: 'canceled', expired: 'canceled',
};

export function orderStateOf(txid: string, o: KrakenOrder, symbol: string): OrderState {
  const filled = new Decimal(o.vol_exec);
  return {
    exchangeOrderId: txid,
    clientOrderId: o.cl_ord_id ?? (o.userref === null || o.userref === undefined ? '' : String(o.userref)),
    symbol,
    side: o.descr.type,
    status: STATUS[o.status],
    quantity: o.vol,
    filledQuantity: filled.toFixed(),
    averagePrice: filled.isZero() || o.price === undefined ? null : o.price,
    trades: [],
  };
}

export function tradeOf(id: string, t: KrakenTrade, symbol: string, quote: string | undefined): ExchangeTrade {
  return {
    id,
    orderId: t.ordertxid,
    symbol,
    side: t.type,
    quantity: t.vol,
    price: t.price,
    fee: t.fee,
    // Spot fees are charged in the quote currency unless the order asked otherwise (oflags fcib).
    feeCurrency: quote ?? symbol.split('/')[1] ?? '',
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
