// Owns the latest market picture per pair: the last closed candle (what paper fills price against)
// and a rolling 24h traded value used by the minimum-volume filter.
import type { Candle } from '../exchange/types.js';
import type { MarketTick, PriceBoardReader } from './types.js';

const DAY_MINUTES = 1440;

interface PairState {
  last: Candle;
  /** Quote value per candle over the last 24h (a ring), and its running sum. */
  ring: Float64Array;
  filled: number;
  cursor: number;
  sum: number;
  fromTicker: number | undefined;
}

export class PriceBoard implements PriceBoardReader {
  readonly #pairs = new Map<string, PairState>();

  update(tick: MarketTick): void {
    const { candle } = tick;
    let state = this.#pairs.get(candle.symbol);
    if (!state) {
      state = { last: candle, ring: new Float64Array(DAY_MINUTES), filled: 0, cursor: 0, sum: 0, fromTicker: undefined };
      this.#pairs.set(candle.symbol, state);
    }
    state.last = candle;
    // A filter input, not money: float sums are fine here (they never reach the ledger).
    const value = candle.volume * candle.close;
    state.sum += value - state.ring[state.cursor]!;
    state.ring[state.cursor] = value;
    state.cursor = (state.cursor + 1) % DAY_MINUTES;
    if (state.filled < DAY_MINUTES) state.filled += 1;
    if (tick.quoteVolume24h !== undefined) state.fromTicker = tick.quoteVolume24h;
  }

  lastCandle(symbol: string): Candle | undefined {
    return this.#pairs.get(symbol)?.last;
  }

  /**
   * 24h traded value in quote currency: the exchange's ticker figure when known; otherwise the sum of
   * the candles seen, scaled up to a day while fewer than a day's candles have been seen (so a replay
   * does not sit out its first day).
   */
  quoteVolume24h(symbol: string): number | undefined {
    const state = this.#pairs.get(symbol);
    if (!state) return undefined;
    if (state.fromTicker !== undefined) return state.fromTicker;
    return state.filled === 0 ? 0 : (state.sum * DAY_MINUTES) / state.filled;
  }

  symbols(): string[] {
    return [...this.#pairs.keys()];
  }
}
