import { ALONE_BY_CONSTRUCTION } from '../../src/engine/ledger/intent-lease.js';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { execute, type Database } from '../../src/db/client.js';
import { equitySnapshots, orderIntents, riskEvents } from '../../src/db/schema/index.js';
import { Engine } from '../../src/engine/engine.js';
import { RiskGuard, resumeEntries, type RiskBreach } from '../../src/engine/risk-guard.js';
import { silentLogger } from '../../src/logger.js';
import { PacedFeed } from '../../src/market/paced-feed.js';
import { getBotState } from '../../src/services/bot-state.js';
import { unpauseEntries } from '../../src/services/entries-pause.js';
import { riskPauseStatus } from '../../src/services/risk-pause-status.js';
import { dec } from '../../src/money.js';
import { createTestDb, emptyTablesSql, type DbKind } from '../support/db.js';
import { candlesFrom, engineContext, maCross, recordingAlerts, roundTripCloses, type RecordingAlerts } from '../support/engine.js';

const limits = { maxDrawdownPct: 10, dailyLossPct: 3, hardDrawdownPct: 15 };

describe.each<DbKind>(['postgres', 'pglite'])('risk guard on %s', (kind) => {
  let database: Database;
  let alerts: RecordingAlerts;
  let hard: RiskBreach[];
  const clock = new ManualClock('2026-01-05T12:00:00Z');
  const guard = () => new RiskGuard({ db: database.db, clock, alerts, logger: silentLogger(), limits, onHardBreach: (b) => void hard.push(b) }, 'paper');

  beforeAll(async () => {
    database = await createTestDb(kind);
  }, 180_000);
  afterAll(async () => {
    await database?.close();
  });
  beforeEach(async () => {
    await execute(database.db, sql.raw(emptyTablesSql(['equity_snapshots', 'risk_events', 'bot_state', 'order_intents', 'trades', 'fills', 'paper_orders', 'paper_balances'])));
    alerts = recordingAlerts();
    hard = [];
  });

  const snapshot = (at: string, equity: number, peak: number) =>
    database.db.insert(equitySnapshots).values({ mode: 'paper', feed: 'kraken', at: new Date(at), equity: String(equity), cash: String(equity), peakEquity: String(peak), drawdownPct: '0' });

  it('pauses entries on a drawdown past the limit, persists it, records the event and raises a critical alert', async () => {
    const g = guard();
    await g.load(clock.now(), false);
    expect(g.observe(10_000, clock.now())).toEqual([]);
    const breaches = g.observe(8_950, clock.now());
    expect(breaches.map((b) => b.kind)).toEqual(['max_drawdown']);
    for (const b of breaches) await g.handle(b);
    expect(await getBotState(database.db)).toMatchObject({ entriesPaused: true, entriesPausedReason: expect.stringMatching(/drawdown 10\.50% reached the 10% limit/) });
    const events = await database.db.select().from(riskEvents);
    expect(events).toMatchObject([{ kind: 'max_drawdown', action: 'entries_paused' }]);
    expect(alerts.raised).toMatchObject([{ source: 'risk', severity: 'critical' }]);
  });

  it('on a replayed market pauses entries just the same, but warns instead of paging (no money at risk; not a go-live strike)', async () => {
    const g = new RiskGuard({ db: database.db, clock, alerts, logger: silentLogger(), limits, rehearsal: true }, 'paper');
    await g.load(clock.now(), false);
    g.observe(10_000, clock.now());
    for (const b of g.observe(8_950, clock.now())) await g.handle(b);
    expect(await getBotState(database.db)).toMatchObject({ entriesPaused: true });
    expect(alerts.raised).toMatchObject([{ source: 'risk', severity: 'warning', title: expect.stringContaining('(replayed market, no money at risk)') }]);
  });

  it('measures drawdown from the peak in the ledger’s equity snapshots, not from a single mark', async () => {
    await snapshot('2026-01-04T09:00:00Z', 12_000, 12_000);
    await snapshot('2026-01-04T10:00:00Z', 11_000, 12_000);
    const g = guard();
    await g.load(clock.now(), false);
    // 10 700 is not a loss against the first mark this process sees, but it is 10.8% below the ledger's peak.
    expect(g.observe(10_700, clock.now()).map((b) => b.kind)).toEqual(['max_drawdown']);
  });

  it('stops new losses for the day past the daily loss limit, from the day’s first equity', async () => {
    await snapshot('2026-01-05T00:00:30Z', 10_000, 10_000);
    const g = guard();
    await g.load(clock.now(), false);
    expect(g.observe(9_750, clock.now())).toEqual([]);
    expect(g.observe(9_690, clock.now()).map((b) => b.kind)).toEqual(['daily_loss']);
  });

  it('keeps entries paused across a restart', async () => {
    const g = guard();
    await g.load(clock.now(), false);
    g.observe(10_000, clock.now());
    for (const b of g.observe(8_900, clock.now())) await g.handle(b);
    // A new process reads bot_state: the pause is still there, and the engine opens nothing.
    const { ctx, clock: engineClock } = await engineContext(database);
    try {
      expect((await getBotState(database.db)).entriesPaused).toBe(true);
      engineClock.set('2026-01-05T13:00:00Z');
      const engine = new Engine({ lease: ALONE_BY_CONSTRUCTION, ctx, feed: new PacedFeed('replay', candlesFrom(roundTripCloses(), { start: '2026-01-05T13:00:00Z' }), 0), strategies: [maCross()], marketClock: engineClock, stopWhenFeedEnds: true });
      await engine.start();
      expect(await database.db.select().from(orderIntents)).toHaveLength(0);
    } finally {
      await ctx.close();
    }
  });

  it('reports a hard drawdown breach to the kill switch hook once', async () => {
    const g = guard();
    await g.load(clock.now(), false);
    g.observe(10_000, clock.now());
    for (const b of g.observe(8_400, clock.now())) await g.handle(b);
    for (const b of g.observe(8_300, clock.now())) await g.handle(b);
    expect(hard.map((b) => [b.kind, Math.round(b.valuePct)])).toEqual([['hard_drawdown', 16]]);
    expect((await database.db.select().from(riskEvents)).map((e) => e.kind).sort()).toEqual(['hard_drawdown', 'max_drawdown']);
  });

  it('tells the kill switch of a hard breach before it writes anything about it (a stalled database cannot delay the cancel)', async () => {
    const seen: Array<{ events: number; alerts: number }> = [];
    const g = new RiskGuard({
      db: database.db, clock, alerts, logger: silentLogger(), limits,
      onHardBreach: async () => void seen.push({ events: (await database.db.select().from(riskEvents)).length, alerts: alerts.raised.length }),
    }, 'paper');
    await g.load(clock.now(), false);
    g.observe(10_000, clock.now());
    const before = { events: (await database.db.select().from(riskEvents)).length, alerts: alerts.raised.length };
    const hardBreach = g.observe(8_400, clock.now()).find((b) => b.kind === 'hard_drawdown')!;
    await g.handle(hardBreach);
    expect(seen).toEqual([before]);
    expect((await database.db.select().from(riskEvents)).length).toBe(before.events + 1);
  });

  it('records an operator’s resume and keeps measuring from the same peak: a plain resume re-arms nothing', async () => {
    const g = guard();
    await g.load(clock.now(), false);
    g.observe(10_000, clock.now());
    for (const b of g.observe(8_900, clock.now())) await g.handle(b);
    await resumeEntries(database.db, clock, { actor: 'U123', reason: 'reviewed' });
    expect(await g.followRearm(8_900, clock.now(), () => dec(8_900))).toBe(false);
    g.entriesPaused = false;
    expect((await getBotState(database.db)).entriesPaused).toBe(false);
    expect(g.peak).toBe(10_000);
    expect(g.observe(8_800, clock.now()).map((b) => [b.kind, b.reference])).toEqual([['max_drawdown', 10_000]]);
    expect((await database.db.select().from(riskEvents)).map((e) => e.kind)).toContain('cleared');
  });

  it('re-arms after a forced unpause past an uncleared breach: the peak and the day’s opening become the equity at the resume, here and after a restart', async () => {
    const config = { RISK_MAX_DRAWDOWN_PCT: limits.maxDrawdownPct, RISK_DAILY_LOSS_PCT: limits.dailyLossPct };
    const g = guard();
    await g.load(clock.now(), false);
    g.observe(10_000, clock.now());
    for (const b of g.observe(8_900, clock.now())) await g.handle(b);
    await database.db.insert(equitySnapshots).values({ mode: 'paper', feed: 'kraken', at: new Date(clock.now().getTime() + 1_000), equity: '8900', cash: '8900', peakEquity: '10000', drawdownPct: '11' });
    clock.set(new Date(clock.now().getTime() + 2_000));
    const result = await unpauseEntries({ db: database.db, clock, config, logger: silentLogger(), alerts }, { id: 'U123', source: 'cli' }, { force: true, reason: 'reviewed the book' });
    expect(result.rearm).toBe('drawdown_and_daily');
    expect(await g.followRearm(8_900, clock.now(), () => dec(8_900))).toBe(true);
    expect(await g.followRearm(8_900, clock.now(), () => dec(8_900))).toBe(false);
    g.entriesPaused = false;
    expect(g.peak).toBe(8_900);
    expect(g.observe(8_800, clock.now())).toEqual([]);
    // A restart before any snapshot stored the re-armed peak: the first mark is the peak again.
    const restarted = guard();
    await restarted.load(clock.now(), false);
    expect(restarted.observe(8_850, clock.now())).toEqual([]);
    expect(restarted.peak).toBe(8_850);
  });

  it('keeps a forced unpause’s re-arm across a restart when the unpauser’s clock runs 3 minutes behind the engine’s and the engine wrote a snapshot with the earlier peak after it', async () => {
    const config = { RISK_MAX_DRAWDOWN_PCT: limits.maxDrawdownPct, RISK_DAILY_LOSS_PCT: limits.dailyLossPct };
    const g = guard();
    await g.load(clock.now(), false);
    g.observe(10_000, clock.now());
    for (const b of g.observe(8_900, clock.now())) await g.handle(b);
    const shell = new ManualClock(new Date(clock.now().getTime() - 180_000));
    const result = await unpauseEntries({ db: database.db, clock: shell, config, logger: silentLogger(), alerts }, { id: 'U123', source: 'cli' }, { force: true, reason: 'reviewed the book' });
    expect(result.rearm).toBe('drawdown_and_daily');
    // The engine, not yet following the re-arm, writes a snapshot measured from the earlier peak, then restarts.
    await snapshot(new Date(clock.now().getTime() + 1_000).toISOString(), 8_900, 10_000);
    clock.set(new Date(clock.now().getTime() + 2_000));
    const restarted = guard();
    await restarted.load(clock.now(), false);
    expect(restarted.observe(8_850, clock.now())).toEqual([]);
    expect(restarted.peak).toBe(8_850);
    // Taken in once: a later restart resumes from the snapshots written since, not from the earlier
    // peak, though this engine's clock (a minute behind) stamps them before that earlier snapshot.
    await snapshot(new Date(clock.now().getTime() - 60_000).toISOString(), 8_850, 8_850);
    const again = guard();
    await again.load(clock.now(), false);
    expect(again.peak).toBe(8_850);
  });

  it('a forced unpause past a daily-loss breach keeps the peak and counts today’s loss from the equity at the resume, in the guard, after a restart and in the breach judgement', async () => {
    const config = { RISK_MAX_DRAWDOWN_PCT: limits.maxDrawdownPct, RISK_DAILY_LOSS_PCT: limits.dailyLossPct };
    const deps = { db: database.db, clock, config, logger: silentLogger(), alerts };
    const later = (ms: number) => new Date(clock.now().getTime() + ms).toISOString();
    await snapshot('2026-01-04T12:00:00Z', 10_300, 10_300);
    const g = guard();
    await g.load(clock.now(), false);
    g.observe(10_000, clock.now());
    await snapshot(later(0), 10_000, 10_300);
    const first = g.observe(9_650, clock.now());
    expect(first.map((b) => b.kind)).toEqual(['daily_loss']);
    for (const b of first) await g.handle(b);
    await snapshot(later(1_000), 9_650, 10_300);
    const shell = new ManualClock(new Date(clock.now().getTime() - 180_000));
    const result = await unpauseEntries({ ...deps, clock: shell }, { id: 'U123', source: 'cli' }, { force: true, reason: 'reviewed the book' });
    expect(result.rearm).toBe('daily');
    expect(await g.followRearm(9_650, clock.now(), () => dec(9_650))).toBe(true);
    g.entriesPaused = false;
    // The peak stands; today's loss counts from 9,650: 9,400 is 2.6% under it (6% under the day's 10,000).
    expect(g.peak).toBe(10_300);
    expect(g.observe(9_400, clock.now())).toEqual([]);

    // A restart before the next snapshot: the re-arm holds (the day's opening is taken at the first mark).
    const restarted = guard();
    await restarted.load(clock.now(), false);
    expect(restarted.peak).toBe(10_300);
    expect(restarted.observe(9_650, clock.now())).toEqual([]);
    expect(restarted.observe(9_400, clock.now())).toEqual([]);

    // Past the re-armed budget the guard pauses again, measured from the equity at the resume.
    await snapshot(later(3_000), 9_650, 10_300);
    const second = g.observe(9_350, clock.now());
    expect(second.map((b) => [b.kind, b.reference])).toEqual([['daily_loss', 9_650]]);
    for (const b of second) await g.handle(b);
    await snapshot(later(4_000), 9_350, 10_300);
    const state = await getBotState(database.db);
    expect(await riskPauseStatus(deps, state)).toMatchObject({ kind: 'daily_loss', cleared: false });
    // 9,500 is 1.55% under the opening at the resume (5% under the day's first 10,000): cleared.
    await snapshot(later(5_000), 9_500, 10_300);
    const status = await riskPauseStatus(deps, state);
    expect(status).toMatchObject({ kind: 'daily_loss', cleared: true });
    expect(status!.now).toContain("today's loss 1.55%");
  });

  describe('a daily-loss breach judged around midnight UTC by a shell whose clock is 5 minutes off the engine', () => {
    const config = { RISK_MAX_DRAWDOWN_PCT: limits.maxDrawdownPct, RISK_DAILY_LOSS_PCT: limits.dailyLossPct };
    /** The engine (its clock at `engineAt`) breaches the daily loss limit and snapshots the book after it. */
    async function breachAt(engineAt: string) {
      const engineClock = new ManualClock(engineAt);
      const g = new RiskGuard({ db: database.db, clock: engineClock, alerts, logger: silentLogger(), limits }, 'paper');
      await g.load(engineClock.now(), false);
      g.observe(10_000, engineClock.now());
      await snapshot(engineClock.now().toISOString(), 10_000, 10_000);
      engineClock.advance(30_000);
      const breaches = g.observe(9_650, engineClock.now());
      expect(breaches.map((b) => b.kind)).toEqual(['daily_loss']);
      for (const b of breaches) await g.handle(b);
      engineClock.advance(30_000);
      await snapshot(engineClock.now().toISOString(), 9_650, 10_000);
      return { g, engineClock };
    }
    const shellAt = (engineClock: ManualClock, offsetMs: number) => new ManualClock(new Date(engineClock.now().getTime() + offsetMs));

    it("before the engine's midnight: still the breach's day, though the shell's clock reads the next", async () => {
      const { engineClock } = await breachAt('2026-01-05T23:56:00Z');
      const shell = shellAt(engineClock, 5 * 60_000);
      expect(shell.now().toISOString()).toBe('2026-01-06T00:02:00.000Z');
      const deps = { db: database.db, clock: shell, config, logger: silentLogger(), alerts };
      expect(await riskPauseStatus(deps, await getBotState(database.db))).toMatchObject({ kind: 'daily_loss', cleared: false, now: "today's loss 3.50% at 2026-01-05T23:57:00.000Z (limit 3%)" });
      await expect(unpauseEntries(deps, { id: 'U123', source: 'cli' }, { force: false })).rejects.toMatchObject({ code: 'breach_not_cleared' });
      expect((await getBotState(database.db)).entriesPaused).toBe(true);
    });

    it("after the engine's midnight: a new day for the guard, though the shell's clock still reads the breach's", async () => {
      const { g, engineClock } = await breachAt('2026-01-05T23:58:00Z');
      // The engine's first mark of the new day, and its snapshot.
      engineClock.advance(2 * 60_000);
      expect(g.observe(9_650, engineClock.now())).toEqual([]);
      await snapshot(engineClock.now().toISOString(), 9_650, 10_000);
      const shell = shellAt(engineClock, -5 * 60_000);
      expect(shell.now().toISOString()).toBe('2026-01-05T23:56:00.000Z');
      const deps = { db: database.db, clock: shell, config, logger: silentLogger(), alerts };
      expect(await riskPauseStatus(deps, await getBotState(database.db))).toMatchObject({ kind: 'daily_loss', cleared: true, now: 'a new day began at 2026-01-06T00:00:00.000Z' });
      expect(await unpauseEntries(deps, { id: 'U123', source: 'cli' }, { force: false })).toMatchObject({ forced: false, rearm: null });
    });
  });

  it('pauses entries from inside the engine when a position loses past the limit', async () => {
    const { ctx, clock: engineClock } = await engineContext(database, { RISK_MAX_DRAWDOWN_PCT: '1', RISK_HARD_DRAWDOWN_PCT: '50' });
    try {
      const closes = roundTripCloses().slice(0, 24);
      // After the entry, the price gaps down 10% in one candle: 20% of equity in the position → ~2% drawdown.
      closes.push(closes[closes.length - 1]! * 0.9);
      const engine = new Engine({ lease: ALONE_BY_CONSTRUCTION, ctx, feed: new PacedFeed('replay', candlesFrom(closes), 0), strategies: [maCross({ exits: {} })], marketClock: engineClock, stopWhenFeedEnds: true });
      await engine.start();
      expect((await getBotState(database.db)).entriesPaused).toBe(true);
      expect((await database.db.select().from(riskEvents)).map((e) => e.kind)).toContain('max_drawdown');
    } finally {
      await ctx.close();
    }
  });
});
