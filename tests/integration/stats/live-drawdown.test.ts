// Drawdown in the stats agrees with the risk guard on a live book shaped as the engine writes it:
// the guard takes the starting equity as its peak at the first mark, the first entry pays its fee,
// and only then is the first equity snapshot taken, with the guard's peak stored beside it. The
// snapshots' equities alone never show that peak, so a drawdown measured from them comes out low.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/clock.js';
import type { CliIo } from '../../../src/cli/io.js';
import { runCli } from '../../../src/cli/program.js';
import { testConfig } from '../../../src/config/env.js';
import { execute } from '../../../src/db/client.js';
import { equitySnapshots } from '../../../src/db/schema/index.js';
import { windowFor, type StatsPeriod } from '../../../src/domain/stats-periods.js';
import { RiskGuard } from '../../../src/engine/risk-guard.js';
import { SnapshotRows } from '../../../src/engine/snapshot-rows.js';
import { createHttpServer } from '../../../src/http/server.js';
import { metricsFeature } from '../../../src/app/features/metrics.js';
import { silentLogger } from '../../../src/logger.js';
import { Decimal } from '../../../src/money.js';
import { equityCurvePoints } from '../../../src/db/queries/stats-ledger.js';
import { computeStats, type BookStats } from '../../../src/services/stats/compute-stats.js';
import { testContext } from '../../support/app-context.js';
import { createPostgresTestDb, type TestDatabase } from '../../support/db.js';
import { recordingAlerts } from '../../support/engine.js';
import { insertTrades, openTrade } from '../../support/factories/ledger.js';
import { sample } from '../../support/prom-text.js';
import { startSlackHarness, USERS } from '../../support/slack-harness.js';

const NOW = '2026-01-10T12:00:00Z';
const QUANTITY = new Decimal('0.1');

/**
 * Live snapshots written by the guard and the snapshot rows the engine uses: a mark at the starting
 * 10000, a buy of 0.1 at 40000 paying 7 in fees (cash 5993), then snapshots at three marks.
 */
async function seedLiveBook(database: TestDatabase): Promise<void> {
  const clock = new ManualClock('2026-01-09T09:59:00Z');
  const guard = new RiskGuard(
    { db: database.db, clock, alerts: recordingAlerts(), logger: silentLogger(), limits: { maxDrawdownPct: 50, dailyLossPct: 50, hardDrawdownPct: 90 } },
    'live',
  );
  await guard.load(clock.now(), false);
  expect(guard.observe(10_000, clock.now())).toEqual([]);
  await insertTrades(database.db, [openTrade({ mode: 'live', quantity: '0.1', entryPrice: '40000', entryFee: '7', at: '2026-01-09T09:59:30Z' })]);
  const rows = new SnapshotRows();
  const cash = new Decimal('5993');
  for (const [at, price] of [['2026-01-09T10:00:00Z', 40_000], ['2026-01-10T02:00:00Z', 38_650], ['2026-01-10T11:30:00Z', 39_670]] as const) {
    const equity = cash.plus(QUANTITY.times(price));
    expect(guard.observe(equity.toNumber(), new Date(at))).toEqual([]);
    const figures = rows.figures({
      cash, marks: [{ quantity: QUANTITY, price }], equity: () => equity, peak: guard.peakExact, drawdownPct: (e) => guard.exactDrawdownPct(e),
    });
    await database.db.insert(equitySnapshots).values({ mode: 'live', feed: 'kraken', at: new Date(at), ...figures });
  }
}

const live = (books: BookStats[]): BookStats => books.find((b) => b.book === 'live')!;

describe('live drawdown in the stats, as the risk guard measured it (PostgreSQL)', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createPostgresTestDb();
    await seedLiveBook(database);
  });
  afterAll(async () => {
    await database?.close();
  });

  it('stores the guard’s peak of 10000 beside a first snapshot taken after the entry fee', async () => {
    const stored = await execute<{ equity: string; peak: string; dd: string }>(database.db, sql`
      select equity::text as equity, peak_equity::text as peak, drawdown_pct::text as dd from equity_snapshots where mode = 'live' order by at`);
    expect(stored.map((r) => [Number(r.equity), Number(r.peak), Number(r.dd)])).toEqual([[9993, 10000, 0.07], [9858, 10000, 1.42], [9960, 10000, 0.4]]);
  });

  it('reports all-time max and current drawdown equal to the stored drawdown_pct, from the stored peak', async () => {
    const stats = (period: StatsPeriod) => computeStats({ db: database.db, config: testConfig() }, { window: windowFor(period, new Date(NOW)), period });
    const all = live((await stats('all')).books);
    expect(all.drawdown).toEqual({ maxPct: '1.42', maxAmount: '142', currentPct: '0.4' });
    expect(all.equity).toEqual({ latest: '9960', at: '2026-01-10T11:30:00.000Z', peak: '10000' });
    // The 24h window opens after the first snapshot: its fall is counted from the 10000 known then,
    // never from the window's first snapshot (which would give 0).
    const day = live((await stats('24h')).books);
    expect(day.drawdown).toEqual({ maxPct: '1.42', maxAmount: '142', currentPct: '0.4' });
  });

  it('draws the chart’s drawdown from the same peak', async () => {
    for (const period of ['all', '24h'] as const) {
      const points = await equityCurvePoints(database.db, { window: windowFor(period, new Date(NOW)), buckets: 400 });
      const deepest = Math.max(...points.filter((p) => p.book === 'live').map((p) => p.drawdownPct));
      expect(deepest, period).toBeCloseTo(1.42, 10);
    }
  });

  it('prints the same figures in ctb stats and ctb stats --json', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ctb-live-dd-'));
    try {
      const run = async (args: string[]) => {
        let out = '';
        let err = '';
        const io: CliIo = {
          env: { DATABASE_URL: database.url, LOG_DIR: join(dir, 'logs'), DATA_DIR: join(dir, 'data'), LOG_LEVEL: 'warn' },
          cwd: dir,
          stdout: { write: (s: string) => (out += s) },
          stderr: { write: (s: string) => (err += s) },
        };
        expect(await runCli(args, io), err).toBe(0);
        return out;
      };
      const json = JSON.parse(await run(['stats', '--json']));
      expect(live(json.books).drawdown).toEqual({ maxPct: '1.42', maxAmount: '142', currentPct: '0.4' });
      const text = await run(['stats']);
      // Columns: paper, live.
      expect(text).toMatch(/max drawdown[\s│]+—[\s│]+1\.42%/);
      expect(text).toMatch(/current drawdown[\s│]+—[\s│]+0\.40%/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('shows the same figures in /stats', async () => {
    const h = await startSlackHarness({ database, clock: new ManualClock(NOW) });
    try {
      h.fake.on('chat.postMessage', (body) => ({ body: { ok: true, channel: body.channel, ts: '1768040000.000100' } }));
      await h.slash('/stats', '24h', { user: USERS.reader });
      await h.idle();
      const [post] = h.fake.callsTo('chat.postMessage');
      // The bot is in paper mode here: no live snapshot comes, so the current drawdown says how old it is.
      expect(JSON.stringify(post!.body.blocks)).toContain('0.40% now _(30m old)_ · 1.42% max');
    } finally {
      await h.close();
    }
  });

  it('exports the same figures as ctb_drawdown_ratio', async () => {
    const ctx = await testContext({ database, clock: new ManualClock(NOW) });
    const feature = await metricsFeature.start(ctx, createHttpServer(silentLogger()), { role: 'all', feed: 'kraken' });
    try {
      const text = await ctx.metrics.metrics();
      expect(sample(text, 'ctb_drawdown_ratio', { book: 'live', kind: 'max' })).toBeCloseTo(0.0142, 10);
      expect(sample(text, 'ctb_drawdown_ratio', { book: 'live', kind: 'current' })).toBeCloseTo(0.004, 10);
    } finally {
      await feature?.stop?.();
      await ctx.close();
    }
  });
});
