// The rehearsal threshold may be lowered, never to 0: `ctb audit` with GOLIVE_MIN_PAPER_TRADES=0 is a
// configuration error (exit 2, saying what is wrong and what is expected), not a passing criterion.
import { describe, expect, it } from 'vitest';
import { ctbInShell } from '../../support/ctb-shell.js';

describe('GOLIVE_MIN_PAPER_TRADES=0', () => {
  it('stops ctb audit with exit 2, naming the variable and the least it accepts', async () => {
    const r = await ctbInShell(['audit', '--dry-run', '--json'], { GOLIVE_MIN_PAPER_TRADES: '0', GOLIVE_MIN_ROI_PCT: '-5', MARKET_FEED: 'replay' });
    expect(r.code, r.stdout + r.stderr).toBe(2);
    expect(r.stderr).toContain('GOLIVE_MIN_PAPER_TRADES: expected at least 1 (closed paper trades before go-live; a rehearsal may lower it, never to 0), got "0"');
    expect(r.stdout).not.toContain('golive.criteria');
  }, 60_000);

  it('is read the same from .env', async () => {
    const r = await ctbInShell(['audit', '--dry-run'], { MARKET_FEED: 'replay' }, 'GOLIVE_MIN_PAPER_TRADES=0\n');
    expect(r.code, r.stdout + r.stderr).toBe(2);
    expect(r.stderr).toContain('GOLIVE_MIN_PAPER_TRADES: expected at least 1');
  }, 60_000);
});
