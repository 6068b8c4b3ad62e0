// The pre-trade gate on the real order path: the executor writes the intent, the gate decides, and a
// refused order never reaches the venue — on the live path (the real Kraken adapter against the fake
// Kraken, whose ticker is the mid) and on paper. A refusal is an intent closed as `refused` with its
// reason, a log line, ctb_risk_refusals_total{check}, and an alert once a check keeps refusing.
import { ALONE_BY_CONSTRUCTION } from '../../../src/engine/ledger/intent-lease.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeAll, afterAll, beforeEach, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { execute } from '../../../src/db/client.js';
import { orderIntents, paperOrders } from '../../../src/db/schema/index.js';
import { executeOrder, type ExecutorDeps, type OrderRequestSpec } from '../../../src/engine/order-executor.js';
import { Portfolio } from '../../../src/engine/portfolio.js';
import { writeIntent } from '../../../src/engine/ledger/intents.js';
import { createLogger } from '../../../src/logger.js';
import { tradingMetrics } from '../../../src/metrics/trading-metrics.js';
import { dec } from '../../../src/money.js';
import { updateBotState } from '../../../src/services/bot-state.js';
import { testConfig } from '../../../src/config/env.js';
import { preTradeGateCheck } from '../../../src/services/audit/checks/pre-trade-gate.js';
import type { AuditContext } from '../../../src/services/audit/types.js';
import { createPostgresTestDb, emptyTablesSql, type TestDatabase } from '../../support/db.js';
import { engineContext, type EngineTestContext } from '../../support/engine.js';
import { startFakeKraken, type FakeKraken } from '../../support/fake-kraken.js';
import { TEST_API_KEY, TEST_API_SECRET } from '../../support/kraken-test-keys.js';

let database: TestDatabase;
let kraken: FakeKraken;
let t: EngineTestContext;
let logs: Array<Record<string, unknown>>;

beforeAll(async () => {
  database = await createPostgresTestDb();
  kraken = await startFakeKraken({ apiKey: TEST_API_KEY, secret: TEST_API_SECRET, tickers: { XXBTZUSD: '50000.0' }, balances: { ZUSD: '100000.0000' } });
}, 120_000);
afterAll(async () => {
  await kraken?.close();
  await database?.close();
});
beforeEach(async () => {
  await execute(database.db, sql.raw(emptyTablesSql(['order_intents', 'fills', 'trades', 'paper_orders', 'paper_balances', 'bot_state'])));
  kraken.calls.length = 0;
});
afterEach(async () => {
  await t?.ctx.close();
});

async function context(env: Record<string, string>, opts: { live: boolean }) {
  logs = [];
  const sink = new Writable({ write(chunk, _e, cb) { for (const l of String(chunk).split('\n')) if (l.trim()) logs.push(JSON.parse(l)); cb(); } });
  const full = {
    ...(opts.live ? { IS_LIVE: 'true', KRAKEN_API_KEY: TEST_API_KEY, KRAKEN_API_SECRET: TEST_API_SECRET, KRAKEN_API_URL: kraken.url, KRAKEN_RATE_LIMIT: 'false' } : {}),
    ...env,
  };
  const logger = createLogger({ config: testConfig(full), stdout: false, files: false, destination: sink, destinationLevel: 'info' });
  t = await engineContext(database, full, { logger });
  await updateBotState(database.db, t.clock, { mode: opts.live ? 'live' : 'paper' });
  return t;
}

/** The engine's last candle for the pair: the price an entry is sized and banded at. */
function lastClose(close: number) {
  t.ctx.prices.update({ candle: { symbol: 'BTC/USD', openTime: new Date(t.clock.now().getTime() - 60_000), open: close, high: close, low: close, close, volume: 10 } });
}

function deps(mode: 'paper' | 'live', portfolio = new Portfolio()): ExecutorDeps {
  if (portfolio.cash.isZero()) portfolio.setCash(dec(100_000));
  return { lease: ALONE_BY_CONSTRUCTION, ctx: t.ctx, mode, feed: 'kraken', exchange: t.ctx.exchanges.forMode(mode), portfolio };
}

const entry = (quantity: string): OrderRequestSpec => ({ purpose: 'entry', strategy: 'gate-test', symbol: 'BTC/USD', side: 'buy', quantity: dec(quantity), reason: 'test' });
const refusals = async (check: string) => (await tradingMetrics(t.ctx.metrics).riskRefusals.get()).values.find((v) => v.labels.check === check)?.value ?? 0;
const intents = () => database.db.select().from(orderIntents).orderBy(orderIntents.id);

describe('pre-trade gate on the live path (real adapter, fake Kraken)', () => {
  it('lets an order inside every limit through, with self-trade prevention stated on AddOrder', async () => {
    await context({ RISK_SELF_TRADE_PREVENTION: 'cancel-both' }, { live: true });
    lastClose(50_000);
    const outcome = await executeOrder(deps('live'), entry('0.01'));
    expect(outcome.kind).toBe('recorded');
    const [add] = kraken.callsTo('AddOrder');
    expect(add!.params).toMatchObject({ pair: 'XXBTZUSD', type: 'buy', ordertype: 'market', volume: '0.01', stptype: 'cancel-both' });
  });

  it('refuses a fat finger — the engine’s price 20% off Kraken’s mid — before anything reaches Kraken', async () => {
    await context({}, { live: true });
    lastClose(60_000); // a bad candle: Kraken's book is at 50 000
    const outcome = await executeOrder(deps('live'), entry('0.01'));
    expect(outcome).toEqual({ kind: 'refused', check: 'price_band', message: expect.stringMatching(/^price 60000 is 20% from the mid 50000 \(band 2%, RISK_PRICE_BAND_PCT\)$/) });
    expect(kraken.orderChangingCalls()).toEqual([]);
    expect(await intents()).toEqual([expect.objectContaining({ status: 'refused', purpose: 'entry', error: expect.stringMatching(/^pre-trade gate \(price_band\): price 60000 is 20% from the mid/) })]);
    expect(await refusals('price_band')).toBe(1);
    expect(logs.find((l) => String(l.msg).startsWith('pre-trade gate refused an order'))).toMatchObject({ check: 'price_band', symbol: 'BTC/USD', mode: 'live' });
  });

  it('refuses an entry over the notional, and alerts once a check has refused three times', async () => {
    await context({ RISK_MAX_ORDER_NOTIONAL: '1000' }, { live: true });
    lastClose(50_000);
    for (let i = 0; i < 3; i++) {
      const outcome = await executeOrder(deps('live'), entry('0.05'));
      expect(outcome).toMatchObject({ kind: 'refused', check: 'notional', message: 'notional 2500 (0.05 × 50000) is over the 1000 limit (RISK_MAX_ORDER_NOTIONAL)' });
      expect(t.alerts.raised.filter((a) => a.fingerprint === 'risk_refusals:notional')).toHaveLength(i === 2 ? 1 : 0);
    }
    expect(t.alerts.raised.at(-1)).toMatchObject({ source: 'risk', severity: 'warning', title: expect.stringMatching(/keeps refusing orders \(notional\): 3 in 10 minutes/) });
    expect(kraken.orderChangingCalls()).toEqual([]);
    expect(await refusals('notional')).toBe(3);
  });
});

describe('pre-trade gate on paper', () => {
  it('keeps the order-rate budget per pair, refusing entries but never the exits it kept room for', async () => {
    await context({ RISK_MAX_ORDERS_PER_MINUTE: '4', RISK_MAX_ORDER_NOTIONAL: '100000' }, { live: false });
    lastClose(50_000);
    const portfolio = new Portfolio();
    const d = deps('paper', portfolio);
    // 4 points a minute: entry 1 (+1, keeps 1 for its exit), entry 2 (+1, keeps 2): a third would not leave room.
    const first = await executeOrder(d, entry('0.01'));
    expect(first).toMatchObject({ kind: 'recorded' });
    expect((await executeOrder(d, entry('0.01'))).kind).toBe('recorded');
    expect(await executeOrder(d, entry('0.01'))).toMatchObject({ kind: 'refused', check: 'rate', message: expect.stringMatching(/the BTC\/USD order-rate budget is spent: counter 2\.0 \+ 1 with 3 kept for exits and cancels would pass 4/) });
    // Both exits go, at once, and even past a notional limit lowered meanwhile.
    (t.ctx.config as { RISK_MAX_ORDER_NOTIONAL: number }).RISK_MAX_ORDER_NOTIONAL = 1;
    for (const p of [...portfolio.positions.values()]) {
      const outcome = await executeOrder(d, { purpose: 'exit', strategy: p.strategy, symbol: p.symbol, side: 'sell', quantity: p.quantity, tradeId: p.tradeId, reason: 'stop-loss' });
      expect(outcome.kind).toBe('recorded');
    }
    expect(portfolio.positions.size).toBe(0);
    expect((await intents()).map((i) => `${i.purpose}:${i.status}`)).toEqual(['entry:filled', 'entry:filled', 'entry:refused', 'exit:filled', 'exit:filled']);
    expect(await database.db.select().from(paperOrders)).toHaveLength(4);
    // A minute later the budget has refilled.
    (t.ctx.config as { RISK_MAX_ORDER_NOTIONAL: number }).RISK_MAX_ORDER_NOTIONAL = 100_000;
    t.clock.advance(60_000);
    lastClose(50_000);
    expect((await executeOrder(d, entry('0.01'))).kind).toBe('recorded');
  });

  it('refuses orders past the open-orders limit per pair, counting the intents not settled yet', async () => {
    await context({ RISK_MAX_OPEN_ORDERS: '2,5' }, { live: false });
    lastClose(50_000);
    for (let i = 0; i < 2; i++) {
      const sent = await writeIntent(database.db, { mode: 'paper', feed: 'kraken', strategy: 'gate-test', symbol: 'BTC/USD', side: 'buy', purpose: 'entry', type: 'market', quantity: '0.01', at: t.clock.now() }, { lease: ALONE_BY_CONSTRUCTION, armed: false });
      await execute(database.db, sql`update order_intents set status = 'sent' where id = ${sent!.id}`);
    }
    expect(await executeOrder(deps('paper'), entry('0.01'))).toMatchObject({ kind: 'refused', check: 'open_orders', message: '2 orders on BTC/USD are not settled yet; the limit is 2 per pair (RISK_MAX_OPEN_ORDERS)' });
    expect(await database.db.select().from(paperOrders)).toEqual([]);
  });

  it('reads the limits from the environment with safe defaults, and names a bad value', () => {
    const c = testConfig({});
    expect([c.RISK_MAX_ORDER_NOTIONAL, c.RISK_PRICE_BAND_PCT, c.RISK_MAX_OPEN_ORDERS, c.RISK_MAX_ORDERS_PER_MINUTE, c.RISK_SELF_TRADE_PREVENTION])
      .toEqual([2500, 2, { perPair: 3, total: 10 }, 20, 'cancel-newest']);
    expect(testConfig({ RISK_MAX_OPEN_ORDERS: '4' }).RISK_MAX_OPEN_ORDERS).toEqual({ perPair: 4, total: 4 });
    expect(() => testConfig({ RISK_MAX_OPEN_ORDERS: '5,2' })).toThrow(/RISK_MAX_OPEN_ORDERS: expected the count in all \(2\) to be at least the count per pair \(5\)/);
    expect(() => testConfig({ RISK_MAX_ORDERS_PER_MINUTE: 'fast' })).toThrow(/RISK_MAX_ORDERS_PER_MINUTE: expected a whole number/);
    expect(() => testConfig({ RISK_SELF_TRADE_PREVENTION: 'none' })).toThrow(/RISK_SELF_TRADE_PREVENTION/);
  });
});

describe('go-live audit: risk.pre_trade_gate', () => {
  const audit = (env: Record<string, string>) => preTradeGateCheck.run({ config: testConfig(env) } as AuditContext, { dryRun: true });

  it('passes the shipped defaults (the notional fits the shipped strategy’s full-size entry)', async () => {
    expect(await audit({})).toMatchObject({
      status: 'pass', value: 'notional ≤ 2500, band 2%, open orders 3/pair 10 in all, 20 orders/min per pair, STP cancel-newest', details: { largestStrategyNotional: 2500 },
    });
  });

  it('fails a band that catches no fat finger and a rate budget above Kraken’s own counter', async () => {
    expect(await audit({ RISK_PRICE_BAND_PCT: '25' })).toMatchObject({ status: 'fail', value: expect.stringContaining('RISK_PRICE_BAND_PCT 25% is wider than 10%') });
    expect(await audit({ RISK_MAX_ORDERS_PER_MINUTE: '500' })).toMatchObject({ status: 'fail', value: expect.stringContaining("above Kraken's highest trading counter (180)") });
  });

  it('warns when full-size entries would be refused, or the budget fits only a higher Kraken tier', async () => {
    expect(await audit({ RISK_MAX_ORDER_NOTIONAL: '1000' })).toMatchObject({ status: 'warn', value: expect.stringContaining('below the largest strategy maxNotional (2500): full-size entries will be refused') });
    expect(await audit({ RISK_MAX_ORDERS_PER_MINUTE: '100' })).toMatchObject({ status: 'warn', value: expect.stringContaining("above Kraken's Starter counter (60)") });
  });

  it('does not pass the notional when the strategies file could not be read: nothing was compared', async () => {
    const missing = join(tmpdir(), 'ctb-no-such-strategies.json');
    expect(await audit({ STRATEGIES_FILE: missing })).toMatchObject({
      status: 'warn', value: expect.stringContaining(`the strategies' full-size entries were not compared with RISK_MAX_ORDER_NOTIONAL: the strategies file ${missing} could not be read here`),
    });
  });
});
