// Moving-average crossover: buy when the fast SMA crosses above the slow one, sell when it crosses
// back below. Confidence grows with the gap between the two averages (fullConfidenceGapPct = 1.0),
// and a buy stays valid for `signalWindow` candles after the cross, so a cross that opens up a
// moment later still qualifies while a stale one does not.
import type { Candle } from '../../exchange/types.js';
import { RollingMean } from './rolling-mean.js';
import { HOLD, type Signal, type Strategy } from './types.js';

export interface MaCrossoverParams {
  fastPeriod: number;
  slowPeriod: number;
  fullConfidenceGapPct: number;
  signalWindow: number;
}

export class MaCrossover implements Strategy {
  readonly #fast: RollingMean;
  readonly #slow: RollingMean;
  #above: boolean | undefined;
  #sinceCross = Number.POSITIVE_INFINITY;

  constructor(readonly name: string, private readonly params: MaCrossoverParams) {
    this.#fast = new RollingMean(params.fastPeriod);
    this.#slow = new RollingMean(params.slowPeriod);
  }

  update(candle: Candle): Signal {
    this.#fast.push(candle.close);
    this.#slow.push(candle.close);
    if (!this.#slow.ready) return HOLD;
    const fast = this.#fast.value;
    const slow = this.#slow.value;
    const above = fast > slow;
    const crossed = this.#above !== undefined && above !== this.#above;
    this.#above = above;
    this.#sinceCross = crossed ? 0 : this.#sinceCross + 1;
    const gapPct = (Math.abs(fast - slow) / slow) * 100;
    if (!above && this.#sinceCross === 0) {
      return { action: 'sell', confidence: 1, reason: `fast SMA(${this.params.fastPeriod}) crossed below slow SMA(${this.params.slowPeriod})` };
    }
    if (above && this.#sinceCross < this.params.signalWindow) {
      const confidence = Math.min(1, gapPct / this.params.fullConfidenceGapPct);
      return { action: 'buy', confidence, reason: `fast SMA(${this.params.fastPeriod}) above slow SMA(${this.params.slowPeriod}) by ${gapPct.toFixed(3)}%` };
    }
    return HOLD;
  }
}
