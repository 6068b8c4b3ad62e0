// Owns position sizing: how much to buy for an entry, under the strategy's limits (max % of equity
// per position, max notional) and the capital reserve (CAPITAL_RESERVE_PCT of equity stays in cash,
// so capital_buffer stays non-negative), rounded down to the market's quantity step.
import type { Market } from '../exchange/types.js';
import { Decimal, dec } from '../money.js';
import type { StrategyLimits } from './strategies/config.js';

export interface SizingInput {
  equity: Decimal;
  cash: Decimal;
  price: number;
  limits: StrategyLimits;
  reservePct: number;
  /** Fees and slippage the order may cost on top of its notional, in percent. */
  costAllowancePct: number;
  market: Pick<Market, 'minQuantity' | 'quantityStep'>;
}

export type SizingResult = { ok: true; quantity: Decimal; notional: Decimal } | { ok: false; reason: string };

export function sizeEntry(input: SizingInput): SizingResult {
  const { equity, cash, limits } = input;
  if (!(input.price > 0)) return { ok: false, reason: 'no valid price' };
  const price = dec(input.price);
  const reserve = equity.times(input.reservePct).div(100);
  const spendable = cash.minus(reserve).div(dec(1).plus(dec(input.costAllowancePct).div(100)));
  const byEquity = equity.times(limits.maxPositionPctOfEquity).div(100);
  const notional = Decimal.min(byEquity, dec(limits.maxNotional), spendable);
  if (notional.lte(0)) return { ok: false, reason: `no cash above the ${input.reservePct}% reserve` };
  const step = dec(input.market.quantityStep);
  const quantity = notional.div(price).div(step).floor().times(step);
  if (quantity.lt(input.market.minQuantity) || quantity.lte(0)) {
    return { ok: false, reason: `size ${quantity.toFixed()} is below the minimum ${input.market.minQuantity}` };
  }
  return { ok: true, quantity, notional: quantity.times(price) };
}
