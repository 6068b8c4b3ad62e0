// The engine trading live (IS_LIVE=true, bot_state live) against the Kraken simulator: every fill is
// booked from Kraken's own answers, orders in flight count toward the limits, an answer the bot
// cannot read is resolved instead of rejected, an order the account cannot pay for is never sent.
import { eq } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client.js';
import { fills, orderIntents, trades } from '../../src/db/schema/index.js';
import type { OrderHooks } from '../../src/engine/order-executor.js';
import { validateClosedTrades } from '../../src/engine/ledger/validate-trades.js';
import { NOT_FOUND_GRACE_MS } from '../../src/engine/recovery.js';
import { dec, sum } from '../../src/money.js';
import { updateBotState } from '../../src/services/bot-state.js';
import { reconcile } from '../../src/services/reconcile/reconcile.js';
import type { FaultSpec } from '../../src/simulator/faults.js';
import type { SimulatorOptions } from '../../src/simulator/simulator.js';
import { createTestDb, ENGINE_TABLES, usePostgresTestDb, type DbKind } from '../support/db.js';
import { candlesFrom, maCross, roundTripCloses } from '../support/engine.js';
import { ageIntentStates, liveContext, liveEngine, startLiveKraken, type LiveKraken } from '../support/live-engine.js';

let kraken: LiveKraken | undefined;
let closeCtx: (() => Promise<void>) | undefined;

afterEach(async () => {
  await closeCtx?.();
  await kraken?.sim.close();
  kraken = undefined;
  closeCtx = undefined;
});

interface RunOptions {
  sim?: SimulatorOptions;
  strategies?: Parameters<typeof liveEngine>[3];
  candles?: Parameters<typeof liveEngine>[2];
  engine?: Parameters<typeof liveEngine>[4];
  /** The bot's environment beside the armed defaults. */
  env?: Record<string, string>;
  /** Hooks that may reach the simulator (the Kraken the engine trades on). */
  hooks?: (k: LiveKraken) => OrderHooks;
}

async function liveRun(db: Database, opts: RunOptions = {}) {
  const k = await startLiveKraken(opts.sim);
  kraken = k;
  const t = await liveContext(db, k, opts.env);
  closeCtx = () => t.ctx.close();
  // A candle every 5 ms and a pass of the fill follower every 10 (the fixture's 30 and 50, scaled):
  // as many candles between the follower's passes, without a second of waiting in every test.
  const engine = liveEngine(t, k, opts.candles ?? candlesFrom(roundTripCloses()), opts.strategies ?? [maCross()], {
    paceMs: 5, fillFollowMs: 10, ...opts.engine, ...(opts.hooks ? { hooks: opts.hooks(k) } : {}),
  });
  return { k, t, engine };
}

const buys = (k: LiveKraken) => k.addOrders().filter((o) => o['type'] === 'buy');
const sells = (k: LiveKraken) => k.addOrders().filter((o) => o['type'] === 'sell');

describe.each<DbKind>(['postgres', 'pglite'])('live round trip on %s', (kind) => {
  it('books entry and exit from Kraken’s fills (each filled in two slices, the second booked by the follower), capital_buffer on close, ledger = Kraken’s balance', async () => {
    const database = await createTestDb(kind);
    try {
      const { k, t, engine } = await liveRun(database, {
        sim: { fillSlices: 2 },
        // Kraken fills the rest of each order on its next tick, after the bot read the first slice back.
        hooks: (sim) => ({ afterSend: () => sim.sim.advance(1) }),
      });
      await engine.start();
      const intents = await database.db.select().from(orderIntents).orderBy(orderIntents.id);
      expect(intents.map((i) => [i.purpose, i.status])).toEqual([['entry', 'filled'], ['exit', 'filled']]);
      // Every Kraken trade is a fill in the ledger, once, with the fee as Kraken charged it.
      const booked = await database.db.select().from(fills).orderBy(fills.id);
      const atKraken = k.sim.state.trades;
      expect(booked).toHaveLength(4);
      expect(booked.map((f) => f.exchangeTradeId).sort()).toEqual(atKraken.map((t) => t.txid).sort());
      for (const f of booked) {
        const t = atKraken.find((x) => x.txid === f.exchangeTradeId)!;
        expect([dec(f.quantity).toFixed(), dec(f.price).toFixed(), dec(f.chargedFee!).toFixed()]).toEqual([dec(t.vol).toFixed(), dec(t.price).toFixed(), dec(t.fee).toFixed()]);
        expect(f).toMatchObject({ mode: 'live', chargedFeeCurrency: 'USD', feeCurrency: 'USD' });
      }
      const all = await database.db.select().from(trades);
      expect(all).toHaveLength(1);
      expect(all[0]).toMatchObject({ status: 'closed', mode: 'live', feed: 'kraken' });
      expect(all[0]!.capitalBuffer).not.toBeNull();
      expect((await validateClosedTrades(database.db)).offending).toEqual([]);
      // Kraken's cash and the ledger agree: start + realized PnL, to Kraken's own rounding (it keeps USD
      // to 4 decimals, each fill's cost rounded and its fee rounded up), and no BTC is left.
      const ledgerCash = dec(10_000).plus(sum(all.map((t) => dec(t.realizedPnl!))));
      expect(dec(k.sim.state.balances['ZUSD']!).minus(ledgerCash).abs().toNumber()).toBeLessThan(0.0001 * booked.length);
      expect(dec(k.sim.state.balances['XXBT'] ?? '0').isZero()).toBe(true);
      // ctb reconcile's view: every Kraken trade matched by a ledger fill, nothing legacy, nothing missing.
      const report = await reconcile(t.ctx, t.ctx.exchanges.kraken(), { writeReport: false });
      expect(report.counts).toMatchObject({ exchangeTrades: 4, matched: 4, mismatched: 0, missingOnExchange: 0, legacyUnmatched: 0, recentUnmatched: 0 });
    } finally {
      await closeCtx?.();
      closeCtx = undefined;
      await database.close();
    }
  }, 240_000);
});

describe('live engine with orders in flight and faults', () => {
  const database = usePostgresTestDb({ truncate: ENGINE_TABLES });

  it('holds maxOpenPositions while an entry is in flight (partly filled, the rest to come): no second entry on any pair', async () => {
    const btc = candlesFrom(roundTripCloses());
    const eth = candlesFrom(roundTripCloses(3_000), { symbol: 'ETH/USD' });
    const candles = [...btc, ...eth].sort((a, b) => a.openTime.getTime() - b.openTime.getTime());
    const { k, engine } = await liveRun(database(), {
      sim: { fillSlices: 3 }, candles, strategies: [maCross({ pairs: ['BTC/USD', 'ETH/USD'], limits: { maxOpenPositions: 1 } })],
    });
    await engine.start();
    expect(buys(k)).toHaveLength(1);
    const [intent] = await database().db.select().from(orderIntents);
    expect(intent).toMatchObject({ purpose: 'entry', status: 'open' });
    expect(intent!.exchangeOrderId).not.toBeNull();
    // Its first slice is booked as a fill; no trade until the order is done.
    expect(await database().db.select().from(fills)).toHaveLength(1);
    expect(await database().db.select().from(trades)).toHaveLength(0);
    expect(engine.portfolio.openCount('test-ma')).toBe(1);
    expect(engine.portfolio.inFlight.get(intent!.id)?.filledQuantity.gt(0)).toBe(true);

    k.sim.advance(2);
    await engine.followFills();
    expect((await database().db.select().from(orderIntents).where(eq(orderIntents.id, intent!.id)))[0]!.status).toBe('filled');
    expect(await database().db.select().from(fills)).toHaveLength(3);
    const [trade] = await database().db.select().from(trades);
    expect(trade).toMatchObject({ status: 'open', entryIntentId: intent!.id });
    expect(dec(trade!.quantity).toFixed()).toBe(dec(intent!.quantity).toFixed());
    expect(engine.portfolio.inFlight.size).toBe(0);
    expect(engine.portfolio.positions.size).toBe(1);
  }, 180_000);

  it('still books a live order in flight after the bot went back to paper (as a kill does)', async () => {
    const { k, t, engine } = await liveRun(database(), { sim: { fillSlices: 3 } });
    await engine.start();
    const [intent] = await database().db.select().from(orderIntents);
    expect(intent).toMatchObject({ mode: 'live', status: 'open' });
    await updateBotState(database().db, t.clock, { mode: 'paper' });
    await engine.prepare();
    expect(engine.mode).toBe('paper');
    k.sim.advance(2);
    await engine.followFills();
    expect((await database().db.select().from(orderIntents).where(eq(orderIntents.id, intent!.id)))[0]!.status).toBe('filled');
    expect(await database().db.select().from(trades)).toEqual([expect.objectContaining({ mode: 'live', status: 'open', entryIntentId: intent!.id })]);
    expect(await database().db.select().from(fills).where(eq(fills.intentId, intent!.id))).toHaveLength(3);
  }, 180_000);

  it('books a paper order still in flight at the switch to live into the paper book, set aside, never the live one', async () => {
    const { t, engine } = await liveRun(database());
    // The paper venue filled a buy whose answer the bot never read (its intent still `sent`), then the bot went live.
    const at = t.clock.now();
    t.ctx.prices.update({ candle: { symbol: 'BTC/USD', openTime: at, open: 50000, high: 50000, low: 50000, close: 50000, volume: 10 } });
    const [intent] = await database().db.insert(orderIntents).values({
      clientOrderId: 'a0b1c2d3-0000-4000-8000-0000000000a1', mode: 'paper', feed: 'kraken', strategy: 'test-ma', symbol: 'BTC/USD', side: 'buy', purpose: 'entry',
      type: 'market', quantity: '0.01', status: 'sent', createdAt: at, updatedAt: at,
    }).returning();
    await t.ctx.exchanges.paper().createOrder({ clientOrderId: intent!.clientOrderId, symbol: 'BTC/USD', side: 'buy', type: 'market', quantity: '0.01' });
    await engine.prepare();
    expect(engine.mode).toBe('live');
    await engine.followFills();
    expect((await database().db.select().from(orderIntents).where(eq(orderIntents.id, intent!.id)))[0]!.status).toBe('filled');
    // Booked once, in the paper book the live engine does not load: no live trade, nothing in the live portfolio.
    expect(await database().db.select().from(trades)).toEqual([expect.objectContaining({ mode: 'paper', status: 'open', entryIntentId: intent!.id, quantity: '0.010000000000000000' })]);
    expect(await database().db.select().from(fills).where(eq(fills.intentId, intent!.id))).toEqual([expect.objectContaining({ mode: 'paper' })]);
    expect(engine.portfolio.positions.size).toBe(0);
    expect(engine.portfolio.inFlight.size).toBe(0);
  }, 60_000);

  it('lets an entry in flight hold its strategy and pair even below maxOpenPositions', async () => {
    const { k, engine } = await liveRun(database(), { sim: { fillSlices: 3 }, strategies: [maCross({ limits: { maxOpenPositions: 3 } })] });
    await engine.start();
    // The buy signal stands for three candles; only the first sends an order.
    expect(buys(k)).toHaveLength(1);
    expect(engine.portfolio.entryInFlight('test-ma', 'BTC/USD')).toBe(true);
  }, 180_000);

  it('keeps a closed order whose trades Kraken lists late in flight, and books it when they appear', async () => {
    const { k, engine } = await liveRun(database(), {
      hooks: (sim) => ({ afterIntent: (intent) => { if (intent.purpose === 'entry') sim.hideTrades(); } }),
    });
    await engine.start();
    const [intent] = await database().db.select().from(orderIntents);
    expect(intent).toMatchObject({ purpose: 'entry', status: 'open' });
    expect(k.sim.state.orders.get(intent!.exchangeOrderId!)?.status).toBe('closed');
    expect(await database().db.select().from(fills)).toHaveLength(0);
    expect(buys(k)).toHaveLength(1);
    k.showTrades();
    await engine.followFills();
    expect((await database().db.select().from(orderIntents).where(eq(orderIntents.id, intent!.id)))[0]!.status).toBe('filled');
    expect(await database().db.select().from(trades)).toEqual([expect.objectContaining({ status: 'open', entryIntentId: intent!.id })]);
  }, 180_000);

  it('sends one exit while it is in flight, however many candles say exit, and closes the trade with capital_buffer once it is done', async () => {
    const { k, engine } = await liveRun(database(), {
      sim: { fillSlices: 2 }, strategies: [maCross({ exits: { stopLossPct: 0.05 } })],
      hooks: (sim) => ({ afterSend: (intent) => { if (intent.purpose === 'entry') sim.sim.advance(1); } }),
    });
    await engine.start();
    expect(sells(k)).toHaveLength(1);
    expect((await database().db.select().from(trades))[0]).toMatchObject({ status: 'open' });
    k.sim.advance(1);
    await engine.followFills();
    const [closed] = await database().db.select().from(trades);
    expect(closed).toMatchObject({ status: 'closed' });
    expect(closed!.capitalBuffer).not.toBeNull();
    expect((await validateClosedTrades(database().db)).offending).toEqual([]);
  }, 180_000);

  it.each<[string, FaultSpec]>([
    ['a truncated body', { endpoint: 'AddOrder', kind: 'truncated', after: true }],
    ['an empty body', { endpoint: 'AddOrder', kind: 'empty', after: true }],
    ['an HTML 502', { endpoint: 'AddOrder', kind: 'http_5xx', status: 502, after: true }],
  ])('resolves an order Kraken placed but answered with %s as filled: never rejected, never placed twice', async (_what, fault) => {
    const { k, t, engine } = await liveRun(database());
    k.sim.faults.add(fault);
    await engine.start();
    const intents = await database().db.select().from(orderIntents).orderBy(orderIntents.id);
    expect(intents[0]).toMatchObject({ purpose: 'entry', status: 'filled' });
    expect(intents[0]!.error).not.toBeNull();
    expect(intents.some((i) => i.status === 'rejected')).toBe(false);
    expect(k.addOrders().filter((o) => o['cl_ord_id'] === intents[0]!.clientOrderId)).toHaveLength(1);
    expect((await database().db.select().from(trades))[0]).toMatchObject({ entryIntentId: intents[0]!.id });
    expect(await database().db.select().from(fills).where(eq(fills.intentId, intents[0]!.id))).toHaveLength(1);
    expect(t.alerts.raised).toContainEqual(expect.objectContaining({ severity: 'warning', fingerprint: 'order_unknown:BTC/USD' }));
  }, 180_000);

  it('refuses an entry the account cannot pay for before sending it, marks it refused with the reason and alerts', async () => {
    const { k, t, engine } = await liveRun(database(), {
      // The balance moves after the engine loaded it (another order, a withdrawal): Kraken is the judge.
      hooks: (sim) => ({ afterIntent: (intent) => { if (intent.purpose === 'entry') sim.sim.state.balances['ZUSD'] = '50.0000'; } }),
    });
    await engine.start();
    // The first written (the entry the account could not pay for), not whichever the table returns first.
    const intents = await database().db.select().from(orderIntents).orderBy(orderIntents.id);
    expect(intents.length).toBeGreaterThan(0);
    expect(intents.every((i) => i.status === 'refused')).toBe(true);
    expect(intents[0]!.error).toMatch(/insufficient funds: .* needs \d+\.\d\d USD with fees; the exchange's free balance is 50\.00 USD/);
    expect(k.addOrders()).toHaveLength(0);
    expect(t.alerts.raised).toContainEqual(expect.objectContaining({ severity: 'warning', fingerprint: 'order_refused:BTC/USD' }));
  }, 180_000);

  it('raises a warning alert on the first failed order, at once, and closes it as never placed', async () => {
    const { k, t, engine } = await liveRun(database());
    k.sim.faults.add({ endpoint: 'AddOrder', kind: 'http_5xx', status: 502 });
    await engine.start();
    const warnings = t.alerts.raised.filter((a) => a.fingerprint === 'order_unknown:BTC/USD');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ severity: 'warning', source: 'trade_failure' });
    // Kraken never had it, but it may still be in Kraken's queue: in flight until the grace has passed
    // on the database's clock (the market moving a minute a candle is no time there), then closed as never placed.
    const [sent] = await database().db.select().from(orderIntents).orderBy(orderIntents.id);
    expect(sent).toMatchObject({ status: 'sent' });
    await ageIntentStates(database(), NOT_FOUND_GRACE_MS);
    await engine.followFills();
    const [first] = await database().db.select().from(orderIntents).orderBy(orderIntents.id);
    expect(first).toMatchObject({ id: sent!.id, status: 'failed', error: expect.stringMatching(/never placed/) });
  }, 180_000);

  it.each<[string, FaultSpec, RegExp]>([
    // Refused for its nonce on the first send and both sends again with fresh nonces.
    ['a nonce error', { endpoint: 'AddOrder', kind: 'error', message: 'EAPI:Invalid nonce', times: 3 }, /^Order outcome unknown, resolving with the exchange: .*EAPI:Invalid nonce/],
    ['a reset connection', { endpoint: 'AddOrder', kind: 'reset' }, /^Order outcome unknown, resolving with the exchange: .*NetworkError/],
    // Longer than the client's timeout (KRAKEN_REQUEST_TIMEOUT, 3 s for this case): Kraken places the order after the bot gave
    // up on the answer. The simulator runs in this process and starts its delay only once the request has arrived, after the
    // client started its timer: the longer delay always ends second, however busy the machine. The timeout holds for every
    // call of the case (balance, funds check, read-backs), so it leaves those seconds of room, not a round trip's worth.
    ['a timeout', { endpoint: 'AddOrder', kind: 'latency', ms: 3_500 }, /^Order outcome unknown, resolving with the exchange: .*RequestTimeout/],
  ])('raises one warning alert at once on the first order that fails with %s, and never calls it rejected', async (_what, fault, message) => {
    const { k, t, engine } = await liveRun(database(), fault.kind === 'latency' ? { env: { KRAKEN_REQUEST_TIMEOUT: '3s' } } : {});
    k.sim.faults.add(fault);
    await engine.start();
    const warnings = t.alerts.raised.filter((a) => a.source === 'trade_failure');
    expect(warnings).toEqual([expect.objectContaining({ severity: 'warning', fingerprint: 'order_unknown:BTC/USD', title: expect.stringMatching(message) })]);
    const intents = await database().db.select().from(orderIntents).orderBy(orderIntents.id);
    expect(intents[0]).toMatchObject({ purpose: 'entry' });
    expect(intents.some((i) => i.status === 'rejected')).toBe(false);
    for (const intent of intents) expect([...k.sim.state.orders.values()].filter((o) => o.cl_ord_id === intent.clientOrderId).length).toBeLessThanOrEqual(1);
  }, 180_000);

  it.each<[string, FaultSpec]>([
    ['EService:Unavailable', { endpoint: 'AddOrder', kind: 'error', message: 'EService:Unavailable' }],
    ['EService:Market in cancel_only mode', { endpoint: 'AddOrder', kind: 'error', message: 'EService:Market in cancel_only mode' }],
    ['EAPI:Rate limit exceeded', { endpoint: 'AddOrder', kind: 'error', message: 'EAPI:Rate limit exceeded' }],
    ['EOrder:Rate limit exceeded', { endpoint: 'AddOrder', kind: 'error', message: 'EOrder:Rate limit exceeded' }],
  ])('books an order Kraken refused with %s as rejected at once: no order, no wait for reconciliation', async (code, fault) => {
    const { k, t, engine } = await liveRun(database());
    k.sim.faults.add(fault);
    await engine.start();
    const [first] = await database().db.select().from(orderIntents).orderBy(orderIntents.id);
    expect(first).toMatchObject({ purpose: 'entry', status: 'rejected', error: `Kraken AddOrder refused: ${code}; no order was placed.` });
    expect([...k.sim.state.orders.values()].filter((o) => o.cl_ord_id === first!.clientOrderId)).toHaveLength(0);
    // A refusal of the whole venue holds the entry (engine-live-venue-hold.test.ts): one alert for the hold.
    expect(t.alerts.raised).toContainEqual(expect.objectContaining({ severity: 'warning', fingerprint: 'order_held:entry:test-ma:BTC/USD' }));
    expect(t.alerts.raised.filter((a) => a.fingerprint === 'order_unknown:BTC/USD')).toEqual([]);
  }, 180_000);

  it('places no live order from a replay feed and raises a critical alert', async () => {
    const { k, t, engine } = await liveRun(database(), { engine: { feed: 'replay' } });
    await engine.start();
    expect(k.addOrders()).toHaveLength(0);
    expect(await database().db.select().from(orderIntents)).toHaveLength(0);
    expect(t.alerts.raised).toContainEqual(expect.objectContaining({ severity: 'critical', fingerprint: 'live_feed_not_market' }));
  }, 180_000);
});
