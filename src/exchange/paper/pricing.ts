// Owns how the paper venue prices a fill: Kraken's fee schedule (lowest tier: taker 0.26%,
// maker 0.16%) and a slippage model — a fixed spread cost plus a square-root market-impact term
// that grows with the order's size relative to the candle's traded volume.
import { Decimal, dec } from '../../money.js';
import type { Candle, Side } from '../types.js';

export interface PaperPricing {
  takerFeePct: number;
  makerFeePct: number;
  /** Always paid on a market fill (half-spread and latency). */
  slippageBps: number;
  /** Paid × sqrt(quantity / candle volume): larger orders move the price more. */
  impactBps: number;
}

export const KRAKEN_LOWEST_TIER: Pick<PaperPricing, 'takerFeePct' | 'makerFeePct'> = { takerFeePct: 0.26, makerFeePct: 0.16 };

const PRICE_DP = 8;
const FEE_DP = 8;

/** Slippage in basis points for a market order of `quantity` against `candle`. */
export function slippageBps(pricing: PaperPricing, quantity: Decimal, candle: Pick<Candle, 'volume'>): number {
  // A candle with no recorded volume gives no depth: treat the order as the whole volume.
  const ratio = candle.volume > 0 ? Math.min(quantity.toNumber() / candle.volume, 1) : 1;
  return pricing.slippageBps + pricing.impactBps * Math.sqrt(ratio);
}

/** The price a market order fills at: the reference moved against the taker by the slippage. */
export function marketFillPrice(pricing: PaperPricing, side: Side, quantity: Decimal, candle: Pick<Candle, 'close' | 'volume'>): Decimal {
  const bps = dec(slippageBps(pricing, quantity, candle).toFixed(6));
  const factor = side === 'buy' ? dec(1).plus(bps.div(10_000)) : dec(1).minus(bps.div(10_000));
  return dec(candle.close).times(factor).toDecimalPlaces(PRICE_DP, side === 'buy' ? Decimal.ROUND_UP : Decimal.ROUND_DOWN);
}

/** The fee on a fill, in quote currency, rounded in the venue's favour like an exchange would. */
export function feeFor(pricing: PaperPricing, liquidity: 'taker' | 'maker', quantity: Decimal, price: Decimal): Decimal {
  const pct = liquidity === 'taker' ? pricing.takerFeePct : pricing.makerFeePct;
  return quantity.times(price).times(dec(pct).div(100)).toDecimalPlaces(FEE_DP, Decimal.ROUND_UP);
}
