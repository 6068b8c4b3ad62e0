// A manual pause and unpause, typed as `ctb pause` / `ctb unpause` in a shell while the engine runs,
// must not re-arm the risk guard: the equity peak and the day's opening equity stay, so the drawdown
// limit still counts from the old peak. Only a forced unpause past an uncleared breach re-arms it.
import { ALONE_BY_CONSTRUCTION } from '../../../src/engine/ledger/intent-lease.js';
import { sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { riskEvents } from '../../../src/db/schema/index.js';
import { Engine } from '../../../src/engine/engine.js';
import type { Candle } from '../../../src/exchange/types.js';
import type { MarketFeed, MarketTick } from '../../../src/market/types.js';
import { RiskGuard } from '../../../src/engine/risk-guard.js';
import { silentLogger } from '../../../src/logger.js';
import { getBotState } from '../../../src/services/bot-state.js';
import { unpauseEntries } from '../../../src/services/entries-pause.js';
import { ctbInShell } from '../../support/ctb-shell.js';
import { usePostgresTestDb } from '../../support/db.js';
import { candlesFrom, engineContext, maCross, roundTripCloses, type EngineTestContext } from '../../support/engine.js';

/** A market that hands out candles only as far as released; meanwhile it answers empty batches, as a quiet feed does. */
class GatedFeed implements MarketFeed {
  readonly kind = 'replay' as const;
  #i = 0;
  #allowed = 0;
  polls = 0;

  /** Run once, just before the candle at this index is handed out (an operator acting between two candles). */
  before: { index: number; run: () => Promise<void> } | null = null;

  constructor(private readonly candles: Candle[]) {}

  release(upTo: number): void {
    this.#allowed = upTo;
  }

  /** Resolves once every released candle was handled and the engine has asked for more `times` times since. */
  async handled(times = 5): Promise<void> {
    while (this.#i < this.#allowed) await new Promise((r) => setTimeout(r, 10));
    const from = this.polls;
    while (this.polls < from + times) await new Promise((r) => setTimeout(r, 10));
  }

  async next(signal: AbortSignal): Promise<MarketTick[] | null> {
    this.polls += 1;
    if (this.#i < this.#allowed) {
      if (this.before?.index === this.#i) {
        const { run } = this.before;
        this.before = null;
        await run();
      }
      return [{ candle: this.candles[this.#i++]! }];
    }
    await new Promise((r) => setTimeout(r, 20));
    return signal.aborted ? null : [];
  }
}

const database = usePostgresTestDb();

describe('a manual pause and unpause through `ctb` while the engine runs', () => {
  let t: EngineTestContext | undefined;
  afterAll(async () => {
    await t?.ctx.close();
  });

  it('leave the risk guard measuring from the old peak: it still pauses at the configured drawdown', async () => {
    t = await engineContext(database(), { RISK_MAX_DRAWDOWN_PCT: '1', RISK_DAILY_LOSS_PCT: '20', RISK_HARD_DRAWDOWN_PCT: '50', RISK_MAX_ORDER_NOTIONAL: '20000' });
    // The V's cross up opens a position of ~90% of equity; the price climbs to a peak, then dips 0.6%
    // (a ~0.55% drawdown, under the 1% limit); after the pause and unpause it falls to 1.4% under the
    // peak: ~1.26% from the old peak (a breach), ~0.7% from the equity at the unpause (none).
    const closes = roundTripCloses().slice(0, 24);
    for (let i = 0; i < 10; i++) closes.push(closes[closes.length - 1]! + 60);
    const peakPrice = closes[closes.length - 1]!;
    closes.push(peakPrice * 0.994);
    const beforePause = closes.length;
    closes.push(peakPrice * 0.986);
    const breachAt = closes.length;
    closes.push(peakPrice * 0.985, peakPrice * 0.985);
    const feed = new GatedFeed(candlesFrom(closes));
    const strategy = maCross({ limits: { maxPositionPctOfEquity: 90, maxNotional: 20_000 } });
    const engine = new Engine({ lease: ALONE_BY_CONSTRUCTION, ctx: t.ctx, feed, strategies: [strategy], marketClock: t.clock, housekeepingMs: 20 });
    const running = engine.start();
    try {
      feed.release(beforePause);
      await feed.handled();
      expect(engine.openTradeIds()).toHaveLength(1);
      expect(await database().db.select().from(riskEvents)).toEqual([]);

      const env = { DATABASE_URL: database().url };
      const paused = await ctbInShell(['pause', '--reason', 'lunch'], env);
      expect(paused.code).toBe(0);
      await feed.handled();
      const unpaused = await ctbInShell(['unpause'], env);
      expect(unpaused.code).toBe(0);
      // It says what it reset: nothing.
      expect(unpaused.stdout).toContain("The risk guard still measures from the same equity peak and day's opening equity.");
      await feed.handled();
      expect((await getBotState(database().db)).entriesPaused).toBe(false);

      feed.release(breachAt);
      await feed.handled();
      const state = await getBotState(database().db);
      expect(state).toMatchObject({ entriesPaused: true, entriesPausedBy: 'system:risk-guard' });
      const [breach] = (await database().db.select().from(riskEvents)).filter((e) => e.action === 'entries_paused');
      expect(breach).toMatchObject({ kind: 'max_drawdown' });
      expect(Number(breach!.value)).toBeGreaterThan(1);
      expect(Number(breach!.value)).toBeLessThan(1.4);
      // Measured from the peak the engine saw before the pause, not from the equity at the unpause.
      const reference = Number((breach!.details as { reference: string }).reference);
      expect(reference).toBeGreaterThan(10_000);

      // Only a forced unpause past the uncleared breach re-arms the guard, and it says what it resets.
      const refused = await ctbInShell(['unpause'], env);
      expect(refused.code).not.toBe(0);
      const forced = await ctbInShell(['unpause', '--force', '--reason', 'reviewed the book'], env);
      expect(forced.code).toBe(0);
      expect(forced.stdout).toContain("Re-armed: the risk guard measures drawdown and today's loss from the equity at this resume (the earlier equity peak is set aside).");
      await feed.handled();
      feed.release(closes.length);
      await feed.handled();
      expect((await getBotState(database().db)).entriesPaused).toBe(false);
      // In the order written (a table's rows come back in no promised order: a reused test database's
      // freed space takes new rows anywhere).
      expect((await database().db.select().from(riskEvents).orderBy(riskEvents.id)).map((e) => e.action)).toEqual(['entries_resumed', 'entries_paused', 'entries_resumed']);
    } finally {
      await engine.stop();
      await running.catch(() => undefined);
    }
  }, 120_000);

  it('a forced unpause the engine takes in with a snapshot queued: after a restart the guard does not return to the earlier peak', async () => {
    await t?.ctx.close();
    await database().db.execute(sql`truncate equity_snapshots, risk_events, bot_state, order_intents, trades, fills, paper_orders, paper_balances restart identity`);
    t = await engineContext(database(), { RISK_MAX_DRAWDOWN_PCT: '1', RISK_DAILY_LOSS_PCT: '20', RISK_HARD_DRAWDOWN_PCT: '50', RISK_MAX_ORDER_NOTIONAL: '20000' });
    const closes = roundTripCloses().slice(0, 24);
    for (let i = 0; i < 10; i++) closes.push(closes[closes.length - 1]! + 60);
    const peakPrice = closes[closes.length - 1]!;
    closes.push(peakPrice * 0.986);
    const breachAt = closes.length;
    closes.push(peakPrice * 0.9855);
    const feed = new GatedFeed(candlesFrom(closes));
    const strategy = maCross({ limits: { maxPositionPctOfEquity: 90, maxNotional: 20_000 } });
    // A snapshot every candle and housekeeping after every batch: the candle handed out right after the unpause is snapshotted
    // (measured from the earlier peak) before the engine sees the unpause in that same pass.
    const engine = new Engine({ lease: ALONE_BY_CONSTRUCTION, ctx: t.ctx, feed, strategies: [strategy], marketClock: t.clock, housekeepingMs: 0, snapshotEveryMs: 0 });
    const running = engine.start();
    const ctx = t.ctx;
    try {
      feed.release(breachAt);
      await feed.handled();
      expect((await getBotState(database().db)).entriesPausedBy).toBe('system:risk-guard');
      // Asserted after the pass, not inside it: the engine's loop catches what its feed throws.
      let rearm: unknown = 'the unpause never ran';
      feed.before = {
        index: breachAt,
        run: async () => {
          rearm = (await unpauseEntries(ctx, { id: 'U123', source: 'cli' }, { force: true, reason: 'reviewed the book' })).rearm;
        },
      };
      feed.release(closes.length);
      await feed.handled();
      expect(rearm).toBe('drawdown_and_daily');
      expect((await getBotState(database().db)).entriesPaused).toBe(false);
    } finally {
      await engine.stop();
      await running.catch(() => undefined);
    }
    const restarted = new RiskGuard({ db: database().db, clock: t.clock, alerts: t.alerts, logger: silentLogger(), limits: { maxDrawdownPct: 1, dailyLossPct: 20, hardDrawdownPct: 50 } }, 'paper');
    await restarted.load(t.clock.now(), false);
    // No snapshot was written after the engine took the re-arm in: the peak is the next mark, not the earlier one.
    expect(restarted.peak).toBe(0);
  }, 120_000);
});
