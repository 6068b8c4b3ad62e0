// Owns the one unrealised PnL that /trades, /stats and their `ctb` twins give an open position. A
// trade is open until its exit is booked (its trade row closed): until then its PnL is unrealised,
// all of it — what it still holds at the mark, what an exit in flight already sold at what it sold
// for (less that sale's fees), less the whole trade's cost and entry fee. So nothing of a trade drops
// out of both realised and unrealised PnL while its exit fills, and both views say the same figure.
import { Decimal, ZERO, dec } from '../../money.js';
import type { InFlightExit } from './in-flight.js';

/** What an open position is worth against what it cost: positions' value less their cost basis and entry fees. */
export function unrealizedPnl(p: { value: Decimal; costBasis: Decimal; entryFees: Decimal }): Decimal {
  return p.value.minus(p.costBasis).minus(p.entryFees);
}

/**
 * What an open trade is worth at `mark`: what it still holds at the mark, plus what its exit in
 * flight brought so far (the quote its fills sold for, less their fees).
 */
export function openTradeValue(trade: { quantity: string | Decimal }, exit: InFlightExit | undefined, mark: string | Decimal): Decimal {
  const held = Decimal.max(dec(trade.quantity).minus(exit?.sold ?? ZERO), ZERO);
  return held.times(mark).plus(exit?.soldFor ?? ZERO);
}
