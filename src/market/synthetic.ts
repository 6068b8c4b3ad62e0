// Owns synthetic market data for the replay sample, tests and benches: a seeded geometric random
// walk with regimes (trend up, trend down, range) and lognormal volume. Deterministic per seed.
import type { Candle } from '../exchange/types.js';

export interface SyntheticOptions {
  symbol: string;
  count: number;
  start: Date;
  startPrice: number;
  seed: number;
  /** Per-minute volatility (fraction). */
  volatility?: number;
  /** Mean base volume per candle. */
  meanVolume?: number;
}

/** mulberry32: a small, good-enough seeded PRNG. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function generateCandles(o: SyntheticOptions): Candle[] {
  const rand = prng(o.seed);
  const normal = () => {
    const u = Math.max(rand(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
  };
  const vol = o.volatility ?? 0.0008;
  const meanVolume = o.meanVolume ?? 8;
  const out: Candle[] = new Array(o.count);
  let price = o.startPrice;
  let drift = 0;
  let regimeLeft = 0;
  const t0 = o.start.getTime();
  for (let i = 0; i < o.count; i++) {
    if (regimeLeft-- <= 0) {
      regimeLeft = 30 + Math.floor(rand() * 150);
      const r = rand();
      drift = r < 0.35 ? vol * 0.25 : r < 0.7 ? -vol * 0.25 : 0;
    }
    const open = price;
    let high = open;
    let low = open;
    // Four sub-steps per minute give the candle a believable range.
    for (let s = 0; s < 4; s++) {
      price *= Math.exp(drift / 4 + (vol / 2) * normal());
      if (price > high) high = price;
      if (price < low) low = price;
    }
    const volume = meanVolume * Math.exp(0.6 * normal() - 0.18) * (1 + (Math.abs(price - open) / open) / vol);
    out[i] = { symbol: o.symbol, openTime: new Date(t0 + i * 60_000), open, high, low, close: price, volume };
  }
  return out;
}
