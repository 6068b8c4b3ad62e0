// Stats figures read from an equity snapshot (equity, current drawdown, exposure's share of equity,
// unrealised PnL) say how old that snapshot is and why no newer one came when it is not fresh: the
// live book of a halted bot, the paper book of a bot in live mode, a trade opened since, an engine
// that stopped. The figures themselves are unchanged. Real PostgreSQL; `ctb stats` in-process.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CliIo } from '../../../src/cli/io.js';
import { runCli } from '../../../src/cli/program.js';
import { testConfig } from '../../../src/config/env.js';
import { botState as botStateTable } from '../../../src/db/schema/index.js';
import { windowFor } from '../../../src/domain/stats-periods.js';
import { computeStats, type BookStats, type StatsReport } from '../../../src/services/stats/compute-stats.js';
import { createPostgresTestDb, type TestDatabase } from '../../support/db.js';
import { insertSnapshots, insertTrades, openTrade } from '../../support/factories/ledger.js';

const NOW = new Date('2026-12-05T13:54:10Z');
const ago = (ms: number, from = NOW) => new Date(from.getTime() - ms);
const MIN = 60_000;
const config = testConfig({ EQUITY_SNAPSHOT_INTERVAL: '15m' });

let database: TestDatabase;
beforeAll(async () => {
  database = await createPostgresTestDb();
});
afterAll(async () => {
  await database?.close();
});
beforeEach(async () => {
  await database.db.execute(sql`truncate trades, equity_snapshots, bot_state restart identity cascade`);
});

async function botState(s: { mode: 'paper' | 'live'; halted: boolean; heartbeatAt: Date | null }): Promise<void> {
  await database.db.insert(botStateTable).values({ id: 1, mode: s.mode, halted: s.halted, engineHeartbeatAt: s.heartbeatAt });
}

const stats = (now = NOW): Promise<StatsReport> => computeStats({ db: database.db, config }, { window: windowFor('all', now), period: 'all' });
const book = (r: StatsReport, name: string): BookStats => r.books.find((b) => b.book === name)!;

/** After an auto-kill: the live book's last snapshot came a second before a buy, then the bot halted. */
async function haltedAfterABuy(now: Date): Promise<void> {
  const snapshotAt = ago(4 * MIN + 14_000, now);
  await insertSnapshots(database.db, [
    { mode: 'live', at: ago(20 * MIN, now), equity: '10000', cash: '10000' },
    { mode: 'live', at: snapshotAt, equity: '9839.91', cash: '7839.91' },
    { mode: 'paper', at: ago(30_000, now), equity: '10000', cash: '10000' },
  ]);
  await insertTrades(database.db, [
    openTrade({ mode: 'live', entryAt: ago(20 * MIN, now), quantity: '0.03', entryPrice: '66000' }),
    openTrade({ mode: 'live', entryAt: new Date(snapshotAt.getTime() + 1000), quantity: '0.00015', entryPrice: '66000' }),
  ]);
  await botState({ mode: 'paper', halted: true, heartbeatAt: ago(5_000, now) });
}

describe('the age of the snapshot behind the stats', () => {
  it('says the live book of a halted bot is as of its last snapshot, with a trade bought since; the paper book is fresh', async () => {
    await haltedAfterABuy(NOW);
    const report = await stats();
    const live = book(report, 'live');
    expect(live.asOf).toEqual({
      at: '2026-12-05T13:49:56.000Z', ageSeconds: 254, fresh: false, staleAfterSeconds: 1800,
      reasons: ['no snapshot since: the bot is halted', 'a trade was opened or closed since'],
    });
    // The figures are the snapshot's, as before: only their age is new.
    expect(live.equity).toMatchObject({ latest: '9839.91', at: '2026-12-05T13:49:56.000Z' });
    expect(live.pnl.unrealized).toBeNull();
    expect(live.exposure.pctOfEquity).toBe('20.2227');
    expect(book(report, 'paper').asOf).toMatchObject({ ageSeconds: 30, fresh: true, reasons: [] });
  });

  it('says the paper book of a bot in live mode is no longer snapshotted, however young its snapshot', async () => {
    await insertSnapshots(database.db, [
      { mode: 'paper', at: ago(3 * MIN), equity: '10015.55', cash: '9900' },
      { mode: 'live', at: ago(MIN), equity: '10000', cash: '10000' },
    ]);
    await insertTrades(database.db, [openTrade({ mode: 'paper', entryAt: ago(10 * MIN), quantity: '1', entryPrice: '100' })]);
    await botState({ mode: 'live', halted: false, heartbeatAt: ago(5_000) });
    const report = await stats();
    expect(book(report, 'paper').pnl.unrealized).toBe('15.55');
    expect(book(report, 'paper').asOf).toMatchObject({ ageSeconds: 180, fresh: false, reasons: ['no snapshot since: the bot is in live mode'] });
    expect(book(report, 'live').asOf).toMatchObject({ fresh: true, reasons: [] });
  });

  it('is stale past two snapshot intervals: the engine is not running when its heartbeat is as old', async () => {
    await insertSnapshots(database.db, [{ mode: 'paper', at: ago(29 * MIN), equity: '10000' }]);
    await botState({ mode: 'paper', halted: false, heartbeatAt: ago(40 * MIN) });
    expect(book(await stats(), 'paper').asOf).toMatchObject({ fresh: true, ageSeconds: 29 * 60 });
    const later = new Date(NOW.getTime() + 2 * MIN);
    expect(book(await stats(later), 'paper').asOf).toMatchObject({ fresh: false, reasons: ['no snapshot for over 30m: the engine is not running'] });
    await database.db.update(botStateTable).set({ engineHeartbeatAt: ago(5_000, later) });
    expect(book(await stats(later), 'paper').asOf).toMatchObject({ fresh: false, reasons: ['no snapshot for over 30m (one is due every 15m)'] });
  });

  it('ctb stats marks the stale figures and says as of when and why; --json carries asOf per book', async () => {
    await haltedAfterABuy(new Date());
    const dir = mkdtempSync(join(tmpdir(), 'ctb-stats-age-'));
    try {
      const run = async (argv: string[]) => {
        let out = '';
        let err = '';
        const io: CliIo = {
          env: { LOG_DIR: join(dir, 'logs'), DATA_DIR: join(dir, 'data'), LOG_LEVEL: 'warn', DATABASE_URL: database.url },
          cwd: dir,
          stdout: { write: (s: string) => (out += s) },
          stderr: { write: (s: string) => (err += s) },
        };
        expect(await runCli(argv, io), err).toBe(0);
        return out;
      };
      const text = await run(['stats']);
      expect(text).toMatch(/│ equity\s.*\s9,839\.91\* │/);
      expect(text).toMatch(/│ exposure\s.*\(20\.22%\*\) │/);
      expect(text).toMatch(/^\* live: equity 9,839\.91 as of \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC, \d+m ago — no snapshot since: the bot is halted; a trade was opened or closed since \(unrealised PnL, current drawdown and exposure % are from the same snapshot\)$/m);
      expect(text).not.toMatch(/^\* paper:/m);
      const json = JSON.parse(await run(['stats', '--json'])) as StatsReport;
      expect(book(json, 'live').asOf).toMatchObject({ fresh: false, reasons: ['no snapshot since: the bot is halted', 'a trade was opened or closed since'] });
      expect(book(json, 'paper').asOf).toMatchObject({ fresh: true });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
