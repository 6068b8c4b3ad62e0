// Pausing entries in the engine: while reducing, buy signals open nothing but an open trade still
// hits its stop-loss and closes; the state survives a restart; after unpause the same signals trade.
import { ALONE_BY_CONSTRUCTION } from '../../../src/engine/ledger/intent-lease.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actor } from '../../../src/app/context.js';
import { orderIntents, trades } from '../../../src/db/schema/index.js';
import { Engine } from '../../../src/engine/engine.js';
import { PacedFeed } from '../../../src/market/paced-feed.js';
import { getBotState } from '../../../src/services/bot-state.js';
import { pauseByOperator, unpauseEntries } from '../../../src/services/entries-pause.js';
import { tradingStateOf } from '../../../src/domain/trading-state.js';
import { createPostgresTestDb, type TestDatabase } from '../../support/db.js';
import { candlesFrom, engineContext, maCross, roundTripCloses, type EngineTestContext } from '../../support/engine.js';

let database: TestDatabase;
beforeAll(async () => {
  database = await createPostgresTestDb();
}, 120_000);
afterAll(async () => {
  await database?.close();
});

const operator: Actor = { id: 'UOPERATOR1', source: 'slack' };
const strategy = maCross({ exits: { stopLossPct: 1 } });

/** A fresh engine process (a restart): reads bot_state and the ledger, runs the candles to the end. */
async function runEngine(closes: number[], start: string): Promise<EngineTestContext> {
  const t = await engineContext(database);
  t.clock.set(start);
  const engine = new Engine({ lease: ALONE_BY_CONSTRUCTION, ctx: t.ctx, feed: new PacedFeed('replay', candlesFrom(closes, { start }), 0), strategies: [strategy], marketClock: t.clock, stopWhenFeedEnds: true });
  await engine.start();
  return t;
}

const intents = async () => (await database.db.select().from(orderIntents).orderBy(orderIntents.id)).map((i) => `${i.purpose}:${i.status}`);

describe('reducing in the engine', () => {
  it('opens nothing on buy signals, still exits at the stop-loss, stays reducing across a restart, trades again after unpause', async () => {
    // 1. An entry opens (the V's cross up).
    let t = await runEngine(roundTripCloses().slice(0, 24), '2026-01-05T00:00:00Z');
    const [open] = await database.db.select().from(trades);
    expect(open).toMatchObject({ status: 'open' });
    const entryPrice = Number(open!.entryPrice);

    // 2. An operator pauses: the trading state is reducing.
    await pauseByOperator(t.ctx, operator, 'CPI print');
    await t.ctx.close();
    expect(tradingStateOf(await getBotState(database.db))).toBe('reducing');

    // 3. After a restart: the price falls through the stop-loss, then a fresh V gives buy signals.
    const afterStop = [...Array(10).fill(entryPrice * 1.002), entryPrice * 0.97, ...roundTripCloses(entryPrice * 0.97)];
    t = await runEngine(afterStop, '2026-01-05T01:00:00Z');
    await t.ctx.close();
    const closed = await database.db.select().from(trades);
    expect(closed).toEqual([expect.objectContaining({ id: open!.id, status: 'closed' })]);
    expect(Number(closed[0]!.exitPrice)).toBeLessThan(entryPrice * 0.99);
    expect(await intents()).toEqual(['entry:filled', 'exit:filled']);

    // 4. Another restart: still reducing, still no entries on the same signals.
    t = await runEngine(roundTripCloses(entryPrice * 0.97).slice(0, 24), '2026-01-05T03:00:00Z');
    expect(await getBotState(database.db)).toMatchObject({ entriesPaused: true, entriesPausedBy: operator.id, entriesPausedReason: 'CPI print' });
    expect(await intents()).toEqual(['entry:filled', 'exit:filled']);

    // 5. Unpause: the same pattern of candles opens a position again.
    await unpauseEntries(t.ctx, operator, { force: false });
    await t.ctx.close();
    t = await runEngine(roundTripCloses(entryPrice * 0.97).slice(0, 24), '2026-01-05T04:00:00Z');
    await t.ctx.close();
    expect(await intents()).toEqual(['entry:filled', 'exit:filled', 'entry:filled']);
    expect(tradingStateOf(await getBotState(database.db))).toBe('active');
  });
});
