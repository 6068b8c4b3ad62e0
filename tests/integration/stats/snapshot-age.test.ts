// Stats figures read from an equity snapshot (equity, current drawdown, exposure's share of equity,
// unrealised PnL) say how old that snapshot is and why no newer one came when it is not fresh: the
// live book of a halted bot, the paper book of a bot in live mode (as the lease holder trades: not
// armed, it trades paper), a trade opened since, an engine that stopped. The figures themselves are
// unchanged. Real PostgreSQL; `ctb stats` in-process, and as a child process once.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { CliIo } from '../../../src/cli/io.js';
import { runCli } from '../../../src/cli/program.js';
import { testConfig } from '../../../src/config/env.js';
import { acquireLease, releaseLease, renewLease } from '../../../src/db/queries/engine-lease.js';
import { botState as botStateTable } from '../../../src/db/schema/index.js';
import { windowFor } from '../../../src/domain/stats-periods.js';
import { renderStats } from '../../../src/slack/views/stats.js';
import { computeStats, type BookStats, type StatsReport } from '../../../src/services/stats/compute-stats.js';
import { ctbInShell } from '../../support/ctb-shell.js';
import { renewedEverySecond } from '../../support/held-lease.js';
import { createPostgresTestDb, emptyTablesSql, type TestDatabase } from '../../support/db.js';
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
  await database.db.execute(sql.raw(emptyTablesSql(['trades', 'equity_snapshots', 'bot_state', 'engine_lease'])));
  await engineStarts();
});

/** `ctb …` in-process on the test database; expects exit 0 and returns stdout. */
const cliIn = (dir: string) => async (argv: string[]): Promise<string> => {
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

const HOLDER = 'engine-under-test';
const claim = { holderId: HOLDER, host: 'demo-host', pid: 4242, role: 'all', feed: 'replay', armed: false, hasKrakenKeys: false };
/** An engine holds the lease (it writes the snapshots), as `ctb start` or `npm run demo` does. */
async function engineStarts(): Promise<void> {
  expect((await acquireLease(database.db, claim, config.ENGINE_LEASE_TTL)).acquired).toBe(true);
}

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
    await database.db.execute(sql`update engine_lease set armed = true`);
    const report = await stats();
    expect(book(report, 'paper').pnl.unrealized).toBe('15.55');
    expect(book(report, 'paper').asOf).toMatchObject({ ageSeconds: 180, fresh: false, reasons: ['no snapshot since: the bot is in live mode'] });
    expect(book(report, 'live').asOf).toMatchObject({ fresh: true, reasons: [] });
  });

  it("judges the book by what the lease holder trades: an unarmed engine's paper book is current though live was approved; a stale armed one's (mode unknown) is taken as live", async () => {
    await insertSnapshots(database.db, [
      { mode: 'paper', at: ago(MIN, new Date()), equity: '10000', cash: '10000' },
      { mode: 'live', at: ago(3 * MIN, new Date()), equity: '10000', cash: '10000' },
    ]);
    await botState({ mode: 'live', halted: false, heartbeatAt: ago(5_000, new Date()) });
    // The engine holding the lease runs without IS_LIVE: it trades, and snapshots, the paper book.
    // Renewed while the child starts, as the running engine would: a loaded machine may take past the lease's TTL.
    const stopRenewing = renewedEverySecond(() => renewLease(database.db, claim));
    const unarmed = await ctbInShell(['stats', '--json'], { DATABASE_URL: database.url }).finally(stopRenewing);
    expect(unarmed.code, unarmed.stderr).toBe(0);
    const json = JSON.parse(unarmed.stdout) as StatsReport;
    expect(book(json, 'paper').asOf).toMatchObject({ fresh: true, reasons: [] });
    expect(book(json, 'live').asOf).toMatchObject({ fresh: false, reasons: ['no snapshot since: the engine trades paper (IS_LIVE is not true in its process)'] });

    // The same engine, armed, stopped renewing its lease: if it wakes it trades LIVE — the paper book is not current.
    await database.db.execute(sql`update engine_lease set armed = true, heartbeat_at = now() - interval '1 hour'`);
    const stale = await stats(new Date());
    expect(book(stale, 'paper').asOf).toMatchObject({ fresh: false, reasons: ['no snapshot since: the bot is in live mode', 'the engine is not running'] });
    expect(book(stale, 'live').asOf).toMatchObject({ fresh: false, reasons: ['the engine is not running'] });
  }, 60_000);

  it('is stale past two snapshot intervals while the engine holds its lease: one is due every interval', async () => {
    await insertSnapshots(database.db, [{ mode: 'paper', at: ago(29 * MIN), equity: '10000' }]);
    await botState({ mode: 'paper', halted: false, heartbeatAt: ago(40 * MIN) });
    expect(book(await stats(), 'paper').asOf).toMatchObject({ fresh: true, ageSeconds: 29 * 60 });
    const later = new Date(NOW.getTime() + 2 * MIN);
    expect(book(await stats(later), 'paper').asOf).toMatchObject({ fresh: false, reasons: ['no snapshot for over 30m (one is due every 15m)'] });
  });

  it("a summary ending at the reader's now judges the engine's heartbeat on the database's clock: a reader whose clock runs an hour ahead does not call a beating engine stopped", async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(Date.now() + 60 * MIN);
      const readerNow = new Date();
      const summary = () => computeStats({ db: database.db, config }, { window: { from: null, to: readerNow }, period: 'custom', endsNow: false });
      await insertSnapshots(database.db, [{ mode: 'paper', at: ago(40 * MIN, readerNow), equity: '10000' }]);
      await database.db.insert(botStateTable).values({ id: 1, mode: 'paper', halted: false, engineHeartbeatAt: sql`now() - interval '1 second'` });
      expect(book(await summary(), 'paper').asOf).toMatchObject({ fresh: false, reasons: ['no snapshot for over 30m (one is due every 15m)'] });
      await database.db.update(botStateTable).set({ engineHeartbeatAt: sql`now() - interval '40 minutes'` });
      expect(book(await summary(), 'paper').asOf).toMatchObject({ reasons: ['no snapshot for over 30m: the engine is not running'] });
    } finally {
      vi.useRealTimers();
    }
  });

  it("a past period's summary, which today's lease says nothing of, tells a stopped engine by its heartbeat", async () => {
    await insertSnapshots(database.db, [{ mode: 'paper', at: ago(29 * MIN), equity: '10000' }]);
    await botState({ mode: 'paper', halted: false, heartbeatAt: ago(40 * MIN) });
    const later = new Date(NOW.getTime() + 2 * MIN);
    const summary = () => computeStats({ db: database.db, config }, { window: { from: null, to: later }, period: 'custom', endsNow: false });
    expect(book(await summary(), 'paper').asOf).toMatchObject({ fresh: false, reasons: ['no snapshot for over 30m: the engine is not running'] });
    await database.db.update(botStateTable).set({ engineHeartbeatAt: ago(5_000, later) });
    expect(book(await summary(), 'paper').asOf).toMatchObject({ fresh: false, reasons: ['no snapshot for over 30m (one is due every 15m)'] });
  });

  it('says at once that the engine is not running once it released its lease (Ctrl-C), in ctb stats, --json and Slack', async () => {
    await insertSnapshots(database.db, [{ mode: 'paper', feed: 'replay', at: ago(10_000, new Date()), equity: '10000', cash: '10000' }]);
    await botState({ mode: 'paper', halted: false, heartbeatAt: ago(5_000, new Date()) });
    const replay = async () => book(await computeStats({ db: database.db, config }, { window: windowFor('all', new Date()), period: 'all' }), 'replay');
    expect((await replay()).asOf).toMatchObject({ fresh: true, reasons: [] });

    expect(await releaseLease(database.db, HOLDER)).toBe(true);
    expect((await replay()).asOf).toMatchObject({ fresh: false, reasons: ['the engine is not running'] });
    const dir = mkdtempSync(join(tmpdir(), 'ctb-stats-stopped-'));
    try {
      const run = cliIn(dir);
      const json = JSON.parse(await run(['stats', '--json'])) as StatsReport;
      expect(book(json, 'replay').asOf).toMatchObject({ fresh: false, reasons: ['the engine is not running'] });
      expect(await run(['stats'])).toMatch(/^\* replay: equity 10,000\.00 as of .* UTC, \d+s ago — the engine is not running \(/m);
      expect(JSON.stringify(renderStats(json))).toMatch(/:warning: Equity 10,000\.00 as of <!date\^[^>]+>, \d+s ago — the engine is not running\./);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('says the engine is not running once its lease went stale (it died), before the snapshot is overdue', async () => {
    await insertSnapshots(database.db, [{ mode: 'paper', at: ago(MIN), equity: '10000', cash: '10000' }]);
    await botState({ mode: 'paper', halted: false, heartbeatAt: ago(5_000) });
    expect(book(await stats(), 'paper').asOf).toMatchObject({ fresh: true });
    await database.db.execute(sql`update engine_lease set heartbeat_at = now() - ${config.ENGINE_LEASE_TTL + 1000}::int * interval '1 millisecond'`);
    expect(book(await stats(), 'paper').asOf).toMatchObject({ fresh: false, reasons: ['the engine is not running'] });
  });

  it('ctb stats marks the stale figures and says as of when and why; --json carries asOf per book', async () => {
    await haltedAfterABuy(new Date());
    const dir = mkdtempSync(join(tmpdir(), 'ctb-stats-age-'));
    try {
      const run = cliIn(dir);
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
