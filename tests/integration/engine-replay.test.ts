import { ALONE_BY_CONSTRUCTION } from '../../src/engine/ledger/intent-lease.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { execute, type Database } from '../../src/db/client.js';
import { orderIntents, paperOrders, trades } from '../../src/db/schema/index.js';
import { Engine } from '../../src/engine/engine.js';
import { engineMetrics } from '../../src/engine/engine-metrics.js';
import { PacedFeed } from '../../src/market/paced-feed.js';
import { ctbMetrics } from '../../src/metrics/instruments.js';
import { dec } from '../../src/money.js';
import { updateBotState } from '../../src/services/bot-state.js';
import { createTestDb, emptyTablesSql, type DbKind } from '../support/db.js';
import { candlesFrom, engineContext, maCross, roundTripCloses, type EngineTestContext } from '../support/engine.js';

// As `truncate … restart identity` leaves them, without writing every table's file anew.
const CLEAR = sql.raw(emptyTablesSql(['order_intents', 'fills', 'trades', 'equity_snapshots', 'paper_balances', 'paper_orders', 'risk_events', 'bot_state']));
async function clear(database: Database) {
  await execute(database.db, CLEAR);
}

describe.each<DbKind>(['postgres', 'pglite'])('engine on the replay feed (%s)', (kind) => {
  let database: Database;
  let t: EngineTestContext;
  beforeAll(async () => {
    database = await createTestDb(kind);
  }, 180_000);
  afterAll(async () => {
    await database?.close();
  });
  afterEach(async () => {
    await t?.ctx.close();
    await clear(database);
  });

  const run = async (closes: number[], opts: { start?: string } = {}) => {
    const engine = new Engine({ lease: ALONE_BY_CONSTRUCTION,
      ctx: t.ctx, feed: new PacedFeed('replay', candlesFrom(closes, opts), 0), strategies: [maCross()], marketClock: t.clock, stopWhenFeedEnds: true,
    });
    await engine.start();
    return engine;
  };

  it('trades a round trip end to end: intent, paper fill, ledger, closed trade marked replay', async () => {
    t = await engineContext(database);
    await run(roundTripCloses());
    const closed = await database.db.select().from(trades);
    expect(closed).toHaveLength(1);
    const trade = closed[0]!;
    expect(trade).toMatchObject({ status: 'closed', mode: 'paper', feed: 'replay', strategy: 'test-ma', symbol: 'BTC/USD' });
    const expected = dec(trade.exitPrice!).minus(trade.entryPrice).times(trade.quantity).minus(trade.entryFee).minus(trade.exitFee!);
    expect(dec(trade.realizedPnl!).toFixed()).toBe(expected.toFixed());
    expect(dec(trade.capitalBuffer!).gte(0)).toBe(true);
    // Sized at 20% of equity: the notional is about 2 000 of the 10 000 starting balance.
    expect(dec(trade.quantity).times(trade.entryPrice).toNumber()).toBeCloseTo(2000, -1);
    // In the order written: the entry, updated to filled after the exit was written, may come back after it unordered.
    const intents = await database.db.select().from(orderIntents).orderBy(orderIntents.id);
    expect(intents.map((i) => [i.purpose, i.status, i.feed])).toEqual([['entry', 'filled', 'replay'], ['exit', 'filled', 'replay']]);
    expect(await database.db.select().from(paperOrders)).toHaveLength(2);
    // /metrics counts what the engine sent.
    const sent = await ctbMetrics(t.ctx.metrics).ordersSent.get();
    expect(sent.values.map((v) => [v.labels, v.value])).toEqual(expect.arrayContaining([[{ mode: 'paper', side: 'buy' }, 1], [{ mode: 'paper', side: 'sell' }, 1]]));
    // /metrics shows the engine's live equity: flat again, it is the starting balance plus the realised PnL.
    const marks = engineMetrics(t.ctx.metrics);
    const equity = (await marks.equity.get()).values;
    expect(equity.map((v) => v.labels)).toEqual([{ book: 'replay', currency: 'USD' }]);
    expect(equity[0]!.value).toBeCloseTo(dec(10_000).plus(trade.realizedPnl!).toNumber(), 6);
    const drawdown = (await marks.drawdown.get()).values;
    expect(drawdown.map((v) => v.labels)).toEqual([{ book: 'replay' }]);
    expect(drawdown[0]!.value).toBeGreaterThanOrEqual(0);
    expect(drawdown[0]!.value).toBeLessThan(0.05);
  });

  it('never trades while halted', async () => {
    t = await engineContext(database);
    await updateBotState(database.db, t.clock, { halted: true, haltedReason: 'test' });
    await run(roundTripCloses());
    expect(await database.db.select().from(orderIntents)).toHaveLength(0);
  });

  it('opens no position while entries are paused by the risk guard', async () => {
    t = await engineContext(database);
    await updateBotState(database.db, t.clock, { entriesPaused: true, entriesPausedReason: 'test' });
    await run(roundTripCloses());
    expect(await database.db.select().from(orderIntents)).toHaveLength(0);
  });

  it('resumes an open position after a restart and closes it', async () => {
    t = await engineContext(database);
    const closes = roundTripCloses();
    await run(closes.slice(0, 24));
    expect((await database.db.select().from(trades))[0]?.status).toBe('open');
    await t.ctx.close();
    t = await engineContext(database);
    t.clock.set('2026-01-05T00:24:00Z');
    await run(closes, { start: '2026-01-05T00:24:00Z' });
    const all = await database.db.select().from(trades);
    expect(all[0]?.status).toBe('closed');
    expect(all.filter((x) => x.status === 'open')).toHaveLength(0);
  });

  it('skips entries below the strategy’s minimum confidence or 24h volume, while a permissive twin trades', async () => {
    t = await engineContext(database);
    const engine = new Engine({ lease: ALONE_BY_CONSTRUCTION,
      ctx: t.ctx, feed: new PacedFeed('replay', candlesFrom(roundTripCloses()), 0), marketClock: t.clock, stopWhenFeedEnds: true,
      strategies: [
        maCross({ name: 'control' }),
        // Confidence = gap / fullConfidenceGapPct: with a 50% "full" gap it never reaches 0.9.
        maCross({ name: 'unsure', params: { fullConfidenceGapPct: 50 }, limits: { minConfidence: 0.9 } }),
        maCross({ name: 'thin', limits: { minVolume24hQuote: 1e12 } }),
      ],
    });
    await engine.start();
    const strategies = (await database.db.select().from(orderIntents)).map((i) => i.strategy);
    expect(strategies.filter((s) => s === 'control')).toHaveLength(2);
    expect(strategies.filter((s) => s === 'unsure' || s === 'thin')).toEqual([]);
  });
});
