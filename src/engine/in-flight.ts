// Owns what is in flight: orders sent whose fills are not all booked yet (intents pending, sent or
// open), with what the exchange reported filled of them. They count toward exposure before their
// fills are booked — an entry in flight holds its strategy+pair and reserves its notional from cash,
// an exit in flight holds its trade, and filled-but-unbooked quantity is marked like a position.
import type { OrderIntent } from '../db/schema/index.js';
import type { OrderState, PriceSource } from '../exchange/types.js';
import { Decimal, ZERO, dec } from '../money.js';

/** Fees and slippage an entry may cost on top of its notional, in percent: sizing and reservations agree. */
export const ENTRY_COST_ALLOWANCE_PCT = 1;

export interface InFlightOrder {
  intentId: number;
  strategy: string;
  symbol: string;
  purpose: OrderIntent['purpose'];
  side: 'buy' | 'sell';
  /** The trade an exit or flatten closes. */
  tradeId: number | null;
  quantity: Decimal;
  /** What the exchange says filled so far (it may be ahead of the fills it listed). */
  filledQuantity: Decimal;
  averagePrice: Decimal | null;
  feeQuote: Decimal;
  /** The price the order was sized at, until the market gives a newer one. */
  referencePrice: Decimal | null;
}

export function inFlightOf(intent: OrderIntent, order?: OrderState | null, referencePrice?: Decimal): InFlightOrder {
  const filled = order ? dec(order.filledQuantity) : ZERO;
  return {
    intentId: intent.id, strategy: intent.strategy, symbol: intent.symbol, purpose: intent.purpose, side: intent.side,
    tradeId: intent.tradeId, quantity: dec(intent.quantity), filledQuantity: filled,
    averagePrice: order?.averagePrice && filled.gt(0) ? dec(order.averagePrice) : null,
    feeQuote: order?.feeQuote ? dec(order.feeQuote) : ZERO,
    referencePrice: referencePrice ?? (intent.limitPrice ? dec(intent.limitPrice) : null),
  };
}

/** The price to value an order's quantity at: the latest close, else the fill or reference price. */
export function markOf(o: InFlightOrder, prices: PriceSource): Decimal | null {
  const close = prices.lastCandle(o.symbol)?.close;
  if (close !== undefined && close > 0) return dec(close);
  return o.averagePrice ?? o.referencePrice;
}

/**
 * Equity effect of what filled but is not booked: the quantity at the mark against what it cost
 * (buys) or brought (sells), less the fee. With cash kept "as if unsettled", cash + this = the account.
 */
export function unbookedValue(o: InFlightOrder, prices: PriceSource): Decimal {
  if (o.filledQuantity.lte(0) || !o.averagePrice) return o.feeQuote.neg();
  const mark = markOf(o, prices) ?? o.averagePrice;
  const sign = o.side === 'buy' ? 1 : -1;
  return o.filledQuantity.times(mark.minus(o.averagePrice)).times(sign).minus(o.feeQuote);
}

/**
 * What an order's reported fills already did to the exchange's cash, undone: added to the balance
 * read from the exchange so that booking the fills later applies them exactly once.
 */
export function unsettleCash(o: InFlightOrder): Decimal {
  const value = o.averagePrice ? o.filledQuantity.times(o.averagePrice) : ZERO;
  return (o.side === 'buy' ? value : value.neg()).plus(o.feeQuote);
}

/**
 * Quote an entry in flight still holds: its unfilled quantity at the mark plus the cost allowance.
 * null when nothing prices it yet (callers then treat all cash as held).
 */
export function unfilledReservation(o: InFlightOrder, prices: PriceSource): Decimal | null {
  if (o.purpose !== 'entry') return ZERO;
  const rest = Decimal.max(o.quantity.minus(o.filledQuantity), ZERO);
  if (rest.isZero()) return ZERO;
  const mark = markOf(o, prices);
  if (!mark) return null;
  return rest.times(mark).times(dec(1).plus(dec(ENTRY_COST_ALLOWANCE_PCT).div(100)));
}
