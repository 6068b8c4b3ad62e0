// Paper ROI is measured against the amount the paper account was funded with, as recorded when the
// engine funded it — in every process, whatever PAPER_STARTING_BALANCE the shell running `ctb stats`
// has. Before any engine funded it, the shell's setting stands in, and the output says so.
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/clock.js';
import { paperBalances } from '../../../src/db/schema/index.js';
import { PaperExchange } from '../../../src/exchange/paper/paper-exchange.js';
import { ctbInShell } from '../../support/ctb-shell.js';
import { usePostgresTestDb } from '../../support/db.js';

const database = usePostgresTestDb();

describe('`ctb stats` and the paper starting balance', () => {
  it('uses the recorded funding, not the shell’s PAPER_STARTING_BALANCE; before any funding it says it uses the shell’s', async () => {
    const env = { DATABASE_URL: database().url, PAPER_STARTING_BALANCE: '5000' };
    const before = await ctbInShell(['stats', 'all'], env);
    expect(before.code).toBe(0);
    expect(before.stdout).toContain("paper: ROI is over this process's PAPER_STARTING_BALANCE (5,000.00): no engine has funded the paper account yet");

    // The engine's paper venue funds the account with its own PAPER_STARTING_BALANCE, 10000.
    const clock = new ManualClock('2026-01-05T00:00:00Z');
    const venue = new PaperExchange({
      db: database().db, clock, prices: { get: () => undefined } as never, quoteCurrency: 'USD', startingBalance: '10000', symbols: ['BTC/USD'],
      pricing: { takerFeePct: 0.26, makerFeePct: 0.16, slippageBps: 0, impactBps: 0 },
    });
    await venue.fetchBalances();

    const after = await ctbInShell(['stats', 'all', '--json'], env);
    expect(after.code).toBe(0);
    const paper = (JSON.parse(after.stdout) as { books: Array<{ book: string; roi: Record<string, unknown> }> }).books.find((b) => b.book === 'paper')!;
    expect(paper.roi).toMatchObject({ startingCapital: '10000', startingCapitalFrom: 'recorded' });
    const text = await ctbInShell(['stats', 'all'], env);
    expect(text.stdout).not.toContain('PAPER_STARTING_BALANCE');

    // A database funded before the amount was recorded: the shell's setting stands in, and it says why.
    await database().db.update(paperBalances).set({ starting: null });
    const unrecorded = await ctbInShell(['stats', 'all'], env);
    expect(unrecorded.stdout).toContain("paper: ROI is over this process's PAPER_STARTING_BALANCE (5,000.00): the paper account was funded before its amount was recorded");
  }, 120_000);
});
