// A feed over candles already in memory (a replay file, a bench's generated year), grouped by candle
// time and released one time step per `intervalMs` — or as fast as the engine takes them when the
// interval is 0, in large batches.
import type { Candle } from '../exchange/types.js';
import { sleep } from './sleep.js';
import type { FeedKind, MarketFeed, MarketTick } from './types.js';

const FAST_BATCH = 2_000;

export class PacedFeed implements MarketFeed {
  #index = 0;

  /** `candles` must be sorted by openTime (several pairs may share a time). */
  constructor(readonly kind: FeedKind, private readonly candles: Candle[], private readonly intervalMs: number) {}

  get remaining(): number {
    return this.candles.length - this.#index;
  }

  async next(signal: AbortSignal): Promise<MarketTick[] | null> {
    if (this.#index >= this.candles.length) return null;
    if (this.intervalMs > 0) {
      await sleep(this.intervalMs, signal);
      if (signal.aborted) return [];
      const first = this.candles[this.#index]!;
      const out: MarketTick[] = [];
      while (this.#index < this.candles.length && this.candles[this.#index]!.openTime.getTime() === first.openTime.getTime()) {
        out.push({ candle: this.candles[this.#index++]! });
      }
      return out;
    }
    const end = Math.min(this.candles.length, this.#index + FAST_BATCH);
    const out: MarketTick[] = new Array(end - this.#index);
    for (let i = 0; this.#index < end; i++) out[i] = { candle: this.candles[this.#index++]! };
    return out;
  }
}
