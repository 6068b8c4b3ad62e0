// Owns the definition of capital_buffer, set on every closed trade:
//
//   capital_buffer = uncommitted quote cash right after the close − CAPITAL_RESERVE_PCT% × equity at close
//
// "Uncommitted quote cash" is the quote-currency balance not tied up in open orders; "equity" is that
// cash plus every still-open position marked at the last price. Positive: the reserve is intact with
// that much to spare. Negative: positions had eaten into the reserve when this trade closed.
import { Decimal, dec } from '../../money.js';

export interface CapitalAtClose {
  /** Quote cash free of open orders, after the exit fill settled. */
  uncommittedQuote: Decimal;
  /** Cash plus open positions at their last price, at the moment of the close. */
  equity: Decimal;
}

export function capitalBuffer(at: CapitalAtClose, reservePct: number): Decimal {
  const reserve = at.equity.times(dec(reservePct)).div(100);
  return at.uncommittedQuote.minus(reserve).toDecimalPlaces(18, Decimal.ROUND_DOWN);
}
