// What `ctb reconcile` and `ctb mode status` say about the reconciliation the bot keeps. It is a
// standing, not a check made now: "OK" beside a fresh reconcile that failed, or before any
// reconciliation had run, was a claim nobody had checked.
import { describe, expect, it } from 'vitest';
import { describeStanding, standingOf } from '../../../src/domain/reconciliation-standing.js';

const state = (over: Partial<Parameters<typeof standingOf>[0]> = {}) =>
  standingOf({ reconciliationBlocked: false, reconciledThrough: null, reconciliationDetails: null, ...over });

describe('the reconciliation standing in words', () => {
  it('before any reconciliation: not blocking, and none has run — never "OK"', () => {
    const [line] = describeStanding(state());
    expect(line).toBe('reconciliation with Kraken: not blocking live trading — none has run yet (the bot runs one before live trading starts)');
    expect(line).not.toMatch(/\bOK\b/);
  });

  it('after one passed: not blocking, with how far the last one reached — never "OK"', () => {
    const [line] = describeStanding(state({ reconciledThrough: new Date('2026-12-05T12:45:06.000Z') }));
    expect(line).toBe('reconciliation with Kraken: not blocking live trading — the last reconciliation the bot ran passed, through 2026-12-05T12:45:06.000Z');
    expect(line).not.toMatch(/\bOK\b/);
  });

  it('blocked: says so, with each difference and what to do', () => {
    const lines = describeStanding(state({
      reconciliationBlocked: true,
      reconciliationDetails: { at: '2026-12-05T12:00:00.000Z', cause: 'start', differences: [{ kind: 'unknown_order', id: 'OABC', clientOrderId: 'by-hand-1', summary: 'open on Kraken, not in the ledger' }] } as never,
    }));
    expect(lines[0]).toMatch(/^reconciliation with Kraken: BLOCKED since 2026-12-05T12:00:00.000Z \(start\) — 1 difference/);
    expect(lines).toContain('      → ctb reconcile adopt OABC  |  ctb reconcile cancel OABC');
  });

  it('suggests adopt only for an order the bot could follow: without a client order id, cancel, and why not adopt', () => {
    const lines = describeStanding(state({
      reconciliationBlocked: true,
      reconciliationDetails: { at: '2026-12-05T12:00:00.000Z', cause: 'start', differences: [{ kind: 'unknown_order', id: 'OABC', clientOrderId: null, summary: 'open on Kraken, not in the ledger' }] } as never,
    }));
    expect(lines).toContain('      → ctb reconcile cancel OABC  (adopt is not possible: the order has no client order id, and the bot follows its orders by client order id)');
    expect(lines.join('\n')).not.toContain('adopt OABC');
  });
});
