import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testConfig } from '../../../src/config/env.js';
import { sql } from 'drizzle-orm';
import { connectPostgres, execute, type Database } from '../../../src/db/client.js';
import { computeStats, type BookStats, type StatsReport } from '../../../src/services/stats/compute-stats.js';
import { inOneSnapshot } from '../../../src/db/queries/stats-ledger.js';
import { windowFor, type StatsPeriod } from '../../../src/domain/stats-periods.js';
import { createPostgresTestDb, createTestDb, type DbKind, type TestDatabase } from '../../support/db.js';
import { startStallProxy } from '../../support/stall-proxy.js';
import { FIXTURE_NOW, seedHandComputedLedger } from '../../support/factories/stats-ledger-fixture.js';

const config = testConfig();

describe.each<DbKind>(['postgres', 'pglite'])('stats from a hand-computed ledger on %s', (kind) => {
  let database: Database;
  const stats = (period: StatsPeriod): Promise<StatsReport> =>
    computeStats({ db: database.db, config }, { window: windowFor(period, new Date(FIXTURE_NOW)), period });
  const book = (r: StatsReport, name: string): BookStats => {
    const b = r.books.find((x) => x.book === name);
    if (!b) throw new Error(`no ${name} book in ${JSON.stringify(r.books.map((x) => x.book))}`);
    return b;
  };

  beforeAll(async () => {
    database = await createTestDb(kind);
    await seedHandComputedLedger(database.db);
  });
  afterAll(async () => {
    await database?.close();
  });

  it('counts wins, losses and breakeven trades and sums realised PnL and fees over all time', async () => {
    const paper = book(await stats('all'), 'paper');
    expect(paper.trades).toEqual({ total: 5, open: 1, closed: 4, wins: 2, losses: 1, breakeven: 1, winRatePct: '50' });
    expect(paper.pnl.realized).toBe('9.285');
    expect(paper.pnl.fees).toBe('0.715');
  });

  it('limits the counts to trades closed inside the 24h and 7d windows', async () => {
    const day = book(await stats('24h'), 'paper');
    expect(day.trades).toMatchObject({ closed: 2, wins: 1, losses: 0, breakeven: 1, open: 1, total: 3 });
    expect(day.pnl).toMatchObject({ realized: '9.78', fees: '0.22' });
    const week = book(await stats('7d'), 'paper');
    expect(week.trades).toMatchObject({ closed: 3, wins: 1, losses: 1 });
    expect(week.pnl).toMatchObject({ realized: '-0.61', fees: '0.61' });
  });

  it('measures max drawdown from the running peak, resetting at a new peak', async () => {
    const all = book(await stats('all'), 'paper');
    expect(all.drawdown).toEqual({ maxPct: '10', maxAmount: '1050', currentPct: '2' });
    // The last 7 days open at the peak of 10500 (stored with the snapshot of 2026-01-03, the last
    // before the window), so the window's first snapshot, 9450, is the 10% (1050) fall the risk
    // guard measured there — not a fresh peak. Then a new peak of 11000 and a fall to 10450 (5%):
    // never the 14% from 11000 down to the window's low, which came before that peak.
    const week = book(await stats('7d'), 'paper');
    expect(week.drawdown).toEqual({ maxPct: '10', maxAmount: '1050', currentPct: '2' });
  });

  it('counts a window’s fall from the peak stored before it, even with one snapshot inside', async () => {
    // 24h: the window opens after the snapshot of 2026-01-09 (10450, peak 11000 stored); its only
    // snapshot, 10780, is 2% (220) below that peak — not a peak of its own (0%).
    const day = book(await stats('24h'), 'paper');
    expect(day.drawdown).toEqual({ maxPct: '2', maxAmount: '220', currentPct: '2' });
  });

  it('computes ROI over starting capital, over equity at the period start, and per strategy', async () => {
    const all = book(await stats('all'), 'paper');
    expect(all.roi).toEqual({ totalPct: '0.0929', periodPct: '0.0929', startingCapital: '10000', startingCapitalFrom: 'first_snapshot', periodStartEquity: '10000' });
    const week = book(await stats('7d'), 'paper');
    // −0.61 over 10500 (the snapshot of 2026-01-03, the last one before the window opens).
    expect(week.roi).toMatchObject({ totalPct: '0.0929', periodPct: '-0.0058', periodStartEquity: '10500' });
    expect(all.strategies).toEqual([
      { strategy: 'ma-cross', closed: 2, wins: 1, losses: 1, realizedPnl: '-0.61', fees: '0.61', deployed: '250', roiPct: '-0.244' },
      { strategy: 'momentum', closed: 2, wins: 1, losses: 0, realizedPnl: '9.895', fees: '0.105', deployed: '110', roiPct: '8.9955' },
    ]);
  });

  it('values open positions at the latest snapshot marks and reports exposure against equity', async () => {
    const paper = book(await stats('all'), 'paper');
    expect(paper.pnl.unrealized).toBe('0.987'); // worth 14 at the marks, cost 13, entry fee 0.013
    expect(paper.pnl.unrealizedMarkedAt).toBe('2026-01-10T11:30:00.000Z');
    expect(paper.exposure).toEqual({ costBasis: '13', pctOfEquity: '0.1206' });
    expect(paper.equity).toEqual({ latest: '10780', at: '2026-01-10T11:30:00.000Z', peak: '11000' });
  });

  it('shows live beside paper, and replay trades apart as not counting toward go-live', async () => {
    const report = await stats('all');
    expect(report.books.map((b) => [b.book, b.countsTowardGoLive])).toEqual([['paper', true], ['live', true], ['replay', false]]);
    const live = book(report, 'live');
    expect(live.trades).toMatchObject({ closed: 1, wins: 1, losses: 0 });
    expect(live.pnl).toMatchObject({ realized: '7.99', fees: '2.01' });
    expect(live.roi.totalPct).toBeNull(); // no live equity snapshot yet: no capital to divide by
    const replay = book(report, 'replay');
    expect(replay.trades).toMatchObject({ closed: 2, wins: 1, losses: 1 });
    expect(replay.pnl.realized).toBe('2');
    expect(report.closed).toBe(7);
    expect(report.open).toBe(1);
  });

  it('lists the latest closed trades newest first', async () => {
    const report = await stats('all');
    expect(report.recentClosed.map((t) => [t.book, t.realizedPnl])).toEqual([
      ['replay', '-3'], ['replay', '5'], ['paper', '9.78'], ['paper', '0'], ['live', '7.99'],
    ]);
  });
});

describe('stats on PostgreSQL', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createPostgresTestDb();
    await seedHandComputedLedger(database.db);
  });
  afterAll(async () => {
    await database?.close();
  });

  it('reads one snapshot: what another session commits between two of its reads is seen by neither', async () => {
    // The bot writes while `ctb stats` reads (another process, so another session): a figure from
    // before a commit and one from after it would not add up.
    const other = connectPostgres(database.url, { max: 1 });
    const snapshots = sql`select count(*)::int as n from equity_snapshots`;
    try {
      const [before, after] = await inOneSnapshot(database.db, async (tx) => {
        const first = await execute<{ n: number }>(tx, snapshots);
        await execute(other.db, sql`insert into equity_snapshots (mode, feed, at, equity, cash, peak_equity, drawdown_pct)
                                    values ('paper', 'kraken', now(), 10000, 10000, 10000, 0)`);
        const second = await execute<{ n: number }>(tx, snapshots);
        return [first[0]!.n, second[0]!.n];
      });
      expect(after).toBe(before);
      // Control: the other session's row was committed, and a read after the snapshot sees it.
      const [now] = await execute<{ n: number }>(database.db, snapshots);
      expect(now!.n).toBe(before + 1);
    } finally {
      await other.close();
    }
  });

  it("are read in one read-only repeatable-read transaction on one connection, not one connection per statement", async () => {
    const client = (database.db as unknown as { session: { client: { options: { debug?: unknown } } } }).session.client;
    const statements: { connection: number; text: string }[] = [];
    client.options.debug = (connection: number, text: string) => statements.push({ connection, text });
    try {
      const report = await computeStats({ db: database.db, config }, { window: windowFor('24h', new Date(FIXTURE_NOW)), period: '24h' });
      expect(report.closed).toBeGreaterThan(0);
    } finally {
      delete client.options.debug;
    }
    const texts = statements.map((s) => s.text.trim().replace(/\s+/g, ' '));
    // Control: the seven reads of a window with a start (its period and all time; the orders in
    // flight with fills among them), bot_state (which book the engine snapshots), the engine lease
    // (whether an engine writes any), to tell a snapshot's age, and the paper account's recorded
    // funding (paper ROI's base), were all seen.
    expect(texts.filter((t) => /^select/i.test(t))).toHaveLength(10);
    expect(texts[0]).toMatch(/^begin/i);
    expect(texts.some((t) => /^set transaction isolation level repeatable read read only/i.test(t))).toBe(true);
    expect(texts.at(-1)).toMatch(/^commit/i);
    expect(new Set(statements.map((s) => s.connection)).size).toBe(1);
  });

  it('sends the transaction mode and every read before any of them is answered (one round trip, not one or two each)', async () => {
    // The connection runs through a proxy that holds every byte, both ways, from the moment the
    // transaction's first statement after BEGIN is sent: a read that waited on an earlier answer
    // (or on a describe of its own parameters) would never be sent while the proxy holds.
    const proxy = await startStallProxy();
    const own = connectPostgres(proxy.urlFor(database.url), { max: 1 });
    let report: Promise<StatsReport> | undefined;
    try {
      await execute(own.db, sql`select 1`); // connected, and the server's types read
      const client = (own.db as unknown as { session: { client: { options: { debug?: unknown } } } }).session.client;
      const sent: string[] = [];
      let allSent!: () => void;
      const together = new Promise<void>((resolve) => (allSent = resolve));
      client.options.debug = (_connection: number, text: string) => {
        const t = text.trim().replace(/\s+/g, ' ');
        if (/^set transaction/i.test(t)) proxy.set('stall');
        sent.push(t);
        const afterMode = sent.slice(sent.findIndex((x) => /^set transaction/i.test(x)) + 1);
        if (sent.some((x) => /^set transaction/i.test(x)) && afterMode.filter((x) => /^select/i.test(x)).length === 6) allSent();
      };
      report = computeStats({ db: own.db, config }, { window: windowFor('24h', new Date(FIXTURE_NOW)), period: '24h' });
      let timer: NodeJS.Timeout | undefined;
      const held = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`with no answer back, only these were sent: ${JSON.stringify(sent.map((x) => x.slice(0, 40)))}`)), 5_000);
      });
      try {
        await Promise.race([together, held]);
      } finally {
        clearTimeout(timer);
      }
      expect(sent[0]).toMatch(/^begin/i);
      expect(sent[1]).toMatch(/^set transaction isolation level repeatable read read only/i);
      proxy.set('forward');
      // The figures are those of the same ledger read the usual way.
      const direct = await computeStats({ db: database.db, config }, { window: windowFor('24h', new Date(FIXTURE_NOW)), period: '24h' });
      expect(await report).toEqual(direct);
    } finally {
      proxy.set('forward');
      await report?.catch(() => undefined);
      await own.close();
      await proxy.close();
    }
  });
});
