// The pre-trade gate's per-pair rate counter counts our cancels as Kraken does: an order of ours that
// a kill's CancelAll (or anyone) cancelled adds Kraken's cancel penalty once the engine books it, so
// the entries after it leave Kraken the room it used. On the live path: the real adapter against the
// fake Kraken, the real fill follower, the real database.
import { ALONE_BY_CONSTRUCTION } from '../../../src/engine/ledger/intent-lease.js';
import { sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { execute } from '../../../src/db/client.js';
import { orderIntents } from '../../../src/db/schema/index.js';
import { markIntent, writeIntent } from '../../../src/engine/ledger/intents.js';
import { executeOrder, type ExecutorDeps, type OrderRequestSpec } from '../../../src/engine/order-executor.js';
import { Portfolio } from '../../../src/engine/portfolio.js';
import { followIntents } from '../../../src/engine/recovery.js';
import { dec } from '../../../src/money.js';
import { updateBotState } from '../../../src/services/bot-state.js';
import { createPostgresTestDb, emptyTablesSql, type TestDatabase } from '../../support/db.js';
import { engineContext, type EngineTestContext } from '../../support/engine.js';
import { startFakeKraken, type FakeKraken } from '../../support/fake-kraken.js';
import { TEST_API_KEY, TEST_API_SECRET } from '../../support/kraken-test-keys.js';

let database: TestDatabase;
let kraken: FakeKraken;
let t: EngineTestContext;

beforeAll(async () => {
  database = await createPostgresTestDb();
  kraken = await startFakeKraken({ apiKey: TEST_API_KEY, secret: TEST_API_SECRET, balances: { ZUSD: '100000.0000' } });
}, 120_000);
afterAll(async () => {
  await kraken?.close();
  await database?.close();
});
beforeEach(async () => {
  await execute(database.db, sql.raw(emptyTablesSql(['order_intents', 'fills', 'trades', 'bot_state'])));
  kraken.state.orders.clear();
});
afterEach(async () => {
  await t?.ctx.close();
});

const entry: OrderRequestSpec = { purpose: 'entry', strategy: 'gate-test', symbol: 'BTC/USD', side: 'buy', quantity: dec('0.01'), reason: 'test', referencePrice: dec(50_000) };

async function liveEngine(): Promise<ExecutorDeps> {
  t = await engineContext(database, {
    IS_LIVE: 'true', KRAKEN_API_KEY: TEST_API_KEY, KRAKEN_API_SECRET: TEST_API_SECRET, KRAKEN_API_URL: kraken.url, KRAKEN_RATE_LIMIT: 'false',
    // 10 points a minute on a pair: an entry (+1) and one cancel of a fresh order (+8) leave no room for another entry.
    RISK_MAX_ORDERS_PER_MINUTE: '10', RISK_MAX_ORDER_NOTIONAL: '100000',
  });
  await updateBotState(database.db, t.clock, { mode: 'live' });
  t.ctx.prices.update({ candle: { symbol: 'BTC/USD', openTime: new Date(t.clock.now().getTime() - 60_000), open: 50_000, high: 50_000, low: 50_000, close: 50_000, volume: 10 } });
  const portfolio = new Portfolio();
  portfolio.setCash(dec(100_000));
  return { lease: ALONE_BY_CONSTRUCTION, ctx: t.ctx, mode: 'live', feed: 'kraken', exchange: t.ctx.exchanges.kraken(), portfolio };
}

/** A limit order of ours resting on Kraken, its intent open (what the engine holds while it rests). */
async function restingOrder(): Promise<number> {
  const intent = await writeIntent(database.db, {
    mode: 'live', feed: 'kraken', strategy: 'gate-test', symbol: 'BTC/USD', side: 'buy', purpose: 'entry', type: 'limit', limitPrice: '40000',
    quantity: '0.01', at: t.clock.now(),
  }, { lease: ALONE_BY_CONSTRUCTION, armed: true });
  kraken.addOrder({ txid: 'ORESTS-00001-AAAAAA', cl_ord_id: intent!.clientOrderId, pair: 'XBTUSD', type: 'buy', ordertype: 'limit', price: '40000', vol: '0.01', vol_exec: '0', status: 'open', opentm: t.clock.now().getTime() / 1000 });
  await markIntent(database.db, { id: intent!.id, status: 'open', exchangeOrderId: 'ORESTS-00001-AAAAAA', at: t.clock.now() });
  return intent!.id;
}

describe("the pre-trade gate's rate counter and our cancels", () => {
  it("adds Kraken's cancel penalty once the engine books an order of ours that a kill cancelled, refusing the entry that would overrun the pair", async () => {
    const d = await liveEngine();
    expect((await executeOrder(d, entry)).kind).toBe('recorded');
    const resting = await restingOrder();

    // The kill's cancel (from this or any other process), then the fill follower's pass in the engine.
    expect(await t.ctx.exchanges.kraken().cancelAllOrders()).toEqual({ canceled: 1 });
    await followIntents({ ctx: t.ctx, mode: 'live', exchange: d.exchange, portfolio: d.portfolio });
    const [, cancelled] = await database.db.select().from(orderIntents).orderBy(orderIntents.id);
    expect(cancelled).toMatchObject({ id: resting, status: 'canceled' });

    // Counter 1 (the entry) + 8 (a cancel under 5 s): one more entry with its exit kept would pass 10.
    expect(await executeOrder(d, entry)).toMatchObject({ kind: 'refused', check: 'rate', message: expect.stringMatching(/counter 9\.0 \+ 1 with 2 kept for exits and cancels would pass 10/) });
    expect(kraken.callsTo('AddOrder')).toHaveLength(1);
  }, 60_000);

  it('counts a cancel booked before the counter was seeded once (from the intent log), not twice', async () => {
    const d = await liveEngine();
    await restingOrder();
    await t.ctx.exchanges.kraken().cancelAllOrders();
    await followIntents({ ctx: t.ctx, mode: 'live', exchange: d.exchange, portfolio: d.portfolio });

    // The seed reads the resting order's AddOrder (1) and its cancel (8) from the log, and no more.
    expect(await executeOrder(d, entry)).toMatchObject({ kind: 'refused', check: 'rate', message: expect.stringMatching(/counter 9\.0 \+ 1 with 1 kept for exits and cancels would pass 10/) });
  }, 60_000);
});
