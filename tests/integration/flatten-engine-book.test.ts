// A flatten closes positions in the ledger behind the running engine's back (the engine is halted):
// the engine's book must follow the database, so its next equity snapshot holds no position the
// ledger has closed and the ROI audit (which resume needs) agrees. Run as the demo does: a paper
// engine on a replay, `ctb kill`, then `ctb incident done close_positions --yes` through the command
// path, carried out by the engine's process; and a flatten by another process on the same database.
import { ALONE_BY_CONSTRUCTION } from '../../src/engine/ledger/intent-lease.js';
import { afterEach, describe, expect, it } from 'vitest';
import { killCommand } from '../../commands/kill.js';
import { incidentDoneCommand } from '../../commands/incident-done.js';
import { runCommand } from '../../commands/run-command.js';
import type { Database } from '../../src/db/client.js';
import { equitySnapshots, paperBalances, trades } from '../../src/db/schema/index.js';
import { Engine } from '../../src/engine/engine.js';
import { flattenPositions } from '../../src/engine/flatten.js';
import type { Candle } from '../../src/exchange/types.js';
import type { MarketFeed, MarketTick } from '../../src/market/types.js';
import { engineRequestHandlers } from '../../src/services/engine-requests/handlers.js';
import { startRequestRunner, type RequestRunner } from '../../src/services/engine-requests/runner.js';
import { checklistFollowUp } from '../../src/services/kill/checklist-records.js';
import { auditRoi } from '../../src/services/roi/roi-audit.js';
import { dec } from '../../src/money.js';
import { createTestDb, type DbKind } from '../support/db.js';
import { candlesFrom, engineContext, maCross, roundTripCloses, type EngineTestContext } from '../support/engine.js';

const root = { id: 'cli:root', source: 'cli' as const };

/** A replay that stops after `holdAt` candles until released: the operator acts while it waits. */
class HeldFeed implements MarketFeed {
  readonly kind = 'replay' as const;
  #i = 0;
  #release!: () => void;
  readonly #released = new Promise<void>((resolve) => (this.#release = resolve));
  #reach!: () => void;
  /** Resolves once every candle before the hold was handed to the engine and it asked for more. */
  readonly reached = new Promise<void>((resolve) => (this.#reach = resolve));

  constructor(private readonly candles: Candle[], private readonly holdAt: number) {}

  release(): void {
    this.#release();
  }

  async next(): Promise<MarketTick[] | null> {
    if (this.#i === this.holdAt) {
      this.#reach();
      await this.#released;
    }
    const candle = this.candles[this.#i++];
    return candle ? [{ candle }] : null;
  }
}

describe.each(['postgres', 'pglite'] as DbKind[])('the engine’s book after a flatten during an incident (%s)', (kind) => {
  let database: Database | undefined;
  let t: EngineTestContext | undefined;
  let other: EngineTestContext | undefined;
  let runner: RequestRunner | undefined;
  afterEach(async () => {
    await runner?.stop();
    await other?.ctx.close();
    await t?.ctx.close();
    await database?.close();
    runner = other = t = database = undefined;
  });

  /** A paper engine that opened a trade and waits at the hold; the run ends when the feed does. */
  async function engineWithOpenTrade(snapshotEveryMs = 60_000): Promise<{ feed: HeldFeed; engine: Engine; run: Promise<void> }> {
    database = await createTestDb(kind);
    t = await engineContext(database);
    // 24 candles: in (the cross up) and still holding; then 14 more falling ones (a cross down the halt keeps from trading).
    const closes = roundTripCloses();
    const feed = new HeldFeed(candlesFrom(closes), 24);
    const engine = new Engine({ lease: ALONE_BY_CONSTRUCTION, ctx: t.ctx, feed, strategies: [maCross()], marketClock: t.clock, stopWhenFeedEnds: true, snapshotEveryMs });
    const run = engine.start();
    await feed.reached;
    expect((await database.db.select().from(trades)).map((x) => x.status)).toEqual(['open']);
    expect(engine.openTradeIds()).toHaveLength(1);
    // The operator acts a moment after the last candle's snapshot.
    t.clock.set(new Date(t.clock.now().getTime() + 1_000));
    return { feed, engine, run };
  }

  /** After the flatten: no snapshot taken since holds a position, each one's equity is its cash, and the audit agrees. */
  async function expectBookFollowsLedger(engine: Engine): Promise<void> {
    const db = database!.db;
    const [trade] = await db.select().from(trades);
    expect(trade?.status).toBe('closed');
    expect(engine.openTradeIds()).toEqual([]);
    const usd = (await db.select().from(paperBalances)).find((b) => b.asset === 'USD')!;
    const after = (await db.select().from(equitySnapshots).orderBy(equitySnapshots.at)).filter((s) => s.at > trade!.exitAt!);
    expect(after.length).toBeGreaterThan(5);
    for (const s of after) {
      expect({ at: s.at.toISOString(), equity: dec(s.equity).toFixed(8), cash: dec(s.cash).toFixed(8) })
        .toEqual({ at: s.at.toISOString(), equity: dec(usd.total).toFixed(8), cash: dec(usd.total).toFixed(8) });
    }
    const report = await auditRoi({ db, clock: t!.clock, config: { ...t!.ctx.config, ROI_TOLERANCE_PCT: 0.0001 } }, { writeReport: false });
    expect(report.rows.filter((r) => r.status !== 'no_data').map((r) => [r.period, r.status])).toEqual([['24h', 'agrees'], ['7d', 'agrees'], ['30d', 'agrees'], ['all', 'agrees']]);
    expect(report.ok).toBe(true);
  }

  it('reads the book again once the flatten handed over by `ctb incident done close_positions --yes` has closed it', async () => {
    const { feed, engine, run } = await engineWithOpenTrade();
    const ctx = t!.ctx;
    // The engine's process carries out the requests handed to it, as the engine feature runs them.
    runner = startRequestRunner(ctx, { holder: 'demo-host:1', handlers: engineRequestHandlers(ctx), onFinished: checklistFollowUp(ctx), pollMs: 20 });
    await runCommand(killCommand, ctx, root, { reason: 'demo incident' });
    const done = await runCommand(incidentDoneCommand, ctx, root, { item: 'close_positions', confirmed: true });
    expect(JSON.stringify(done)).toContain('Closed 1 of 1 open positions');
    feed.release();
    await run;
    await expectBookFollowsLedger(engine);
  });

  it('reads the book again at the next candle after a flatten in its own process, a snapshot due or not (its progress line and /metrics)', async () => {
    const { feed, engine, run } = await engineWithOpenTrade(3_600_000);
    const ctx = t!.ctx;
    runner = startRequestRunner(ctx, { holder: 'demo-host:1', handlers: engineRequestHandlers(ctx), onFinished: checklistFollowUp(ctx), pollMs: 20 });
    await runCommand(killCommand, ctx, root, { reason: 'demo incident' });
    await runCommand(incidentDoneCommand, ctx, root, { item: 'close_positions', confirmed: true });
    feed.release();
    await run;
    const usd = (await database!.db.select().from(paperBalances)).find((b) => b.asset === 'USD')!;
    expect(engine.openTradeIds()).toEqual([]);
    expect(engine.portfolio.cash.toFixed(8)).toBe(dec(usd.total).toFixed(8));
  });

  it('reads the book again when another process flattened while it was halted', async () => {
    const { feed, engine, run } = await engineWithOpenTrade();
    await runCommand(killCommand, t!.ctx, root, { reason: 'demo incident' });
    // Another process on the same database (nothing tells this engine): only the ledger says it.
    other = await engineContext(database!);
    other.clock.set(t!.clock.now());
    const last = candlesFrom(roundTripCloses())[23]!;
    other.ctx.prices.update({ candle: last });
    expect((await flattenPositions(other.ctx)).summary).toBe('Closed 1 of 1 open positions.');
    feed.release();
    await run;
    await expectBookFollowsLedger(engine);
  });
});
