// Owns what a strategy is to the engine: something fed closed candles, one at a time, that answers
// with a signal and how confident it is. State lives in memory (replays run at full speed); the
// engine owns filters, sizing, exits on stop/target, and everything that touches money.
import type { Candle } from '../../exchange/types.js';

export interface Signal {
  action: 'buy' | 'sell' | 'hold';
  /** 0..1: how strongly the strategy means it. Entries below the strategy's minConfidence are skipped. */
  confidence: number;
  reason: string;
}

export interface Strategy {
  readonly name: string;
  update(candle: Candle): Signal;
}

export const HOLD: Signal = Object.freeze({ action: 'hold', confidence: 0, reason: 'no signal' }) as Signal;
