// The trading state as Slack shows it: a halt is named by its cause — reconciliation's own halt is
// not the kill switch, and a kill is still called one.
import { describe, expect, it } from 'vitest';
import { tradingStateText, type TradingStateInfo } from '../../../src/domain/trading-state.js';
import { tradingStateField } from '../../../src/slack/views/trading-state.js';

const halted = (over: Partial<TradingStateInfo>): TradingStateInfo => ({
  state: 'halted', reason: 'reconciliation', by: 'system:reconciliation', at: new Date('2026-12-05T12:00:00.000Z'), entriesPaused: false, ...over,
});

describe('a halt named by its cause', () => {
  it('reconciliation’s halt says reconciliation, not kill switch (Slack and terminal)', () => {
    expect(tradingStateField(halted({}))).toContain(':octagonal_sign: *halted* — no orders at all (reconciliation with Kraken: halted until it passes)');
    expect(tradingStateField(halted({}))).not.toContain('kill switch');
    expect(tradingStateText(halted({}))).toMatch(/^halted \(no orders at all \(reconciliation with Kraken: halted until it passes\)\)/);
  });

  it('a kill is still the kill switch', () => {
    expect(tradingStateField(halted({ by: 'UOPS1', reason: 'fat finger' }))).toContain('*halted* — no orders at all (kill switch)');
    expect(tradingStateText(halted({ by: 'UOPS1', reason: 'fat finger' }))).toMatch(/^halted \(no orders at all \(kill switch\)\)/);
  });
});
