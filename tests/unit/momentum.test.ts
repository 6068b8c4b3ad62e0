import { describe, expect, it } from 'vitest';
import { Momentum } from '../../src/engine/strategies/momentum.js';
import { candlesFrom } from '../support/engine.js';

describe('momentum strategy', () => {
  it('buys after a rise past entryPct over the lookback and sells after a fall past exitPct', () => {
    const strategy = new Momentum('m', { lookback: 5, entryPct: 1, exitPct: 1 });
    const closes = [100, 100, 100, 100, 100, 100, 100.5, 101.2, 101.5, 101.5, 101.5, 101.5, 100.2, 99.8];
    const actions = candlesFrom(closes).map((c) => strategy.update(c));
    expect(actions.slice(0, 5).every((s) => s.action === 'hold')).toBe(true); // not enough history yet
    expect(actions[7]).toMatchObject({ action: 'buy' }); // +1.2% over 5 candles
    expect(actions[7]!.confidence).toBeCloseTo(0.6, 5);
    expect(actions.findIndex((s) => s.action === 'sell')).toBe(13); // 101.5 → 99.8 over 5 candles: −1.67%
  });
});
