// Momentum: buy when the close has risen more than `entryPct` over the last `lookback` candles,
// sell when it has fallen more than `exitPct`. Confidence scales with how far past the threshold.
import type { Candle } from '../../exchange/types.js';
import { HOLD, type Signal, type Strategy } from './types.js';

export interface MomentumParams {
  lookback: number;
  entryPct: number;
  exitPct: number;
}

export class Momentum implements Strategy {
  readonly #closes: Float64Array;
  #cursor = 0;
  #count = 0;

  constructor(readonly name: string, private readonly params: MomentumParams) {
    this.#closes = new Float64Array(params.lookback + 1);
  }

  update(candle: Candle): Signal {
    const size = this.#closes.length;
    this.#closes[this.#cursor] = candle.close;
    this.#cursor = (this.#cursor + 1) % size;
    if (this.#count < size) this.#count += 1;
    if (this.#count < size) return HOLD;
    const oldest = this.#closes[this.#cursor]!; // the slot about to be overwritten is lookback candles back
    const changePct = ((candle.close - oldest) / oldest) * 100;
    if (changePct >= this.params.entryPct) {
      return { action: 'buy', confidence: Math.min(1, changePct / (2 * this.params.entryPct)), reason: `up ${changePct.toFixed(3)}% over ${this.params.lookback} candles` };
    }
    if (changePct <= -this.params.exitPct) {
      return { action: 'sell', confidence: 1, reason: `down ${(-changePct).toFixed(3)}% over ${this.params.lookback} candles` };
    }
    return HOLD;
  }
}
