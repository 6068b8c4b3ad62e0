// Reconciliation with Kraken that fails closed, against the fake Kraken (the simulator) and a real
// database: an explained state passes and advances reconciled_through; an order or fill nobody can
// explain halts the bot (reason "reconciliation") with a critical alert, `ctb reconcile` lists it with
// what to do, and adopt/cancel resolve it (refusing what cannot be adopted safely) until the halt lifts;
// a kill's halt is never lifted by it; a shell without the key hands the work to the engine's process.
import { eq, sql } from 'drizzle-orm';
import { beforeEach, describe, expect, it } from 'vitest';
import type { AlertInput } from '../../../src/alerts/types.js';
import type { OwnedContext } from '../../../src/app/build-context.js';
import { fills, orderIntents, trades } from '../../../src/db/schema/index.js';
import { getBotState, updateBotState } from '../../../src/services/bot-state.js';
import { engineRequestHandlers } from '../../../src/services/engine-requests/handlers.js';
import { startRequestRunner } from '../../../src/services/engine-requests/runner.js';
import { createReconciliationMonitor } from '../../../src/services/reconcile/start/monitor.js';
import { runReconciliation } from '../../../src/services/reconcile/start/run.js';
import type { TestDatabase } from '../../support/db.js';
import { liveKrakenBed } from '../../support/live-kraken-bed.js';
import type { FakeKraken, FakeOrder, FakeTrade } from '../../support/fake-kraken.js';

const bed = liveKrakenBed('ctb-reconcile-start-');
const { ctb } = bed;
let database: TestDatabase;
let kraken: FakeKraken;
let ctx: OwnedContext;
let alerts: AlertInput[];
const nowSec = () => Math.floor(Date.now() / 1000);

beforeEach(async () => {
  ({ database, kraken } = bed.current);
  alerts = [];
  ctx = await bed.context(alerts);
  await updateBotState(database.db, ctx.clock, { mode: 'live' });
});
const noKeys = { KRAKEN_API_KEY: undefined, KRAKEN_API_SECRET: undefined, IS_LIVE: 'false' };

const order = (over: Partial<FakeOrder> & Pick<FakeOrder, 'txid'>): FakeOrder => ({
  pair: 'XBTUSD', type: 'buy', ordertype: 'limit', price: '40000.0', vol: '0.01000000', vol_exec: '0.00000000', status: 'open', opentm: nowSec() - 600, ...over,
});
const trade = (over: Partial<FakeTrade> & Pick<FakeTrade, 'txid' | 'ordertxid'>): FakeTrade => ({
  pair: 'XXBTZUSD', time: nowSec() - 300, type: 'buy', ordertype: 'market', price: '50000.0', vol: '0.01000000', fee: '1.30000', ...over,
});

async function intent(over: Partial<typeof orderIntents.$inferInsert> & { clientOrderId: string }) {
  const at = new Date(Date.now() - 3_600_000);
  const [row] = await database.db.insert(orderIntents).values({
    mode: 'live', feed: 'kraken', strategy: 'test-ma', symbol: 'BTC/USD', side: 'buy', purpose: 'entry', type: 'market', quantity: '0.01',
    status: 'filled', createdAt: at, updatedAt: at, ...over,
  }).returning();
  return row!;
}

async function ledgerFill(intentId: number, t: FakeTrade, over: Partial<typeof fills.$inferInsert> = {}) {
  await database.db.insert(fills).values({
    intentId, clientOrderId: `c-${intentId}`, exchangeTradeId: t.txid, exchangeOrderId: t.ordertxid, mode: 'live', feed: 'kraken', symbol: 'BTC/USD',
    side: t.type, quantity: t.vol, price: t.price, fee: t.fee, feeCurrency: 'USD', filledAt: new Date(t.time * 1000), ...over,
  });
}

describe('reconciliation with Kraken (fails closed)', () => {
  it('passes when every open order and fill is explained by an intent and the ledger, and advances reconciled_through', async () => {
    const resting = await intent({ clientOrderId: 'a0b1c2d3-0000-4000-8000-000000000001', status: 'open', exchangeOrderId: 'OREST1-AAAAA-BBBBBB', type: 'limit' });
    kraken.addOrder(order({ txid: 'OREST1-AAAAA-BBBBBB', cl_ord_id: resting.clientOrderId }));
    const filled = await intent({ clientOrderId: 'a0b1c2d3-0000-4000-8000-000000000002', exchangeOrderId: 'OFILL1-AAAAA-BBBBBB' });
    const t = trade({ txid: 'TFILL1-AAAAA-BBBBBB', ordertxid: 'OFILL1-AAAAA-BBBBBB' });
    kraken.addTrades([t]);
    await ledgerFill(filled.id, t);

    const run = await runReconciliation(ctx, { cause: 'start' });
    expect(run).toMatchObject({ ok: true, differences: [], openOrders: 1, trades: 1, halt: 'unchanged' });
    const state = await getBotState(database.db);
    expect(state).toMatchObject({ halted: false, reconciliationBlocked: false });
    expect(state.reconciledThrough!.getTime()).toBeGreaterThan(Date.now() - 120_000);
    expect(alerts.filter((a) => a.severity === 'critical')).toEqual([]);
    // The next run looks from there: Kraken is asked for trades since (a minute before) that point.
    await runReconciliation(ctx, { cause: 'retry' });
    const starts = kraken.callsTo('TradesHistory').map((c) => Number(c.params['start']));
    expect(starts.at(-1)).toBeGreaterThan(starts[0]!);
    expect(kraken.orderChangingCalls()).toEqual([]);
  });

  it('halts with reason "reconciliation" and a critical alert listing an open order no intent explains; ctb reconcile lists it with what to do', async () => {
    kraken.addOrder(order({ txid: 'OMANU1-AAAAA-BBBBBB', cl_ord_id: 'by-hand-1' }));
    const run = await runReconciliation(ctx, { cause: 'start' });
    expect(run.ok).toBe(false);
    expect(run.differences).toMatchObject([{ kind: 'unknown_order', id: 'OMANU1-AAAAA-BBBBBB', side: 'buy', quantity: '0.01000000', symbol: 'BTC/USD' }]);
    expect(await getBotState(database.db)).toMatchObject({ halted: true, haltedReason: 'reconciliation', haltedBy: 'system:reconciliation', reconciliationBlocked: true });
    const critical = alerts.filter((a) => a.severity === 'critical');
    expect(critical).toHaveLength(1);
    expect(critical[0]).toMatchObject({ source: 'reconciliation', fingerprint: 'reconciliation-blocked' });
    expect(JSON.stringify(critical[0]!.details)).toContain('unknown_order OMANU1-AAAAA-BBBBBB');
    // The same differences found again do not page again.
    await runReconciliation(ctx, { cause: 'retry' });
    expect(alerts.filter((a) => a.severity === 'critical')).toHaveLength(1);

    const r = await ctb(['reconcile']);
    expect(r.code, r.err).toBe(1);
    expect(r.out).toContain('reconciliation with Kraken: BLOCKED');
    expect(r.out).toContain('unknown_order OMANU1-AAAAA-BBBBBB: open buy 0.01000000 BTC/USD');
    expect(r.out).toContain('→ ctb reconcile adopt OMANU1-AAAAA-BBBBBB  |  ctb reconcile cancel OMANU1-AAAAA-BBBBBB');
    // A shell without the key still sees them (the ledger comparison itself needs the key).
    const plain = await ctb(['reconcile'], noKeys);
    expect(plain.code).toBe(2);
    expect(plain.out).toContain('unknown_order OMANU1-AAAAA-BBBBBB');
    expect(plain.err).toContain('KRAKEN_API_KEY and KRAKEN_API_SECRET are not set');
    // And `ctb mode status` says why it does not trade; resuming by hand is refused until it is resolved.
    const status = await ctb(['mode', 'status']);
    expect(status.out).toContain('reconciliation with Kraken: BLOCKED');
    const resume = await ctb(['resume']);
    expect(resume.code).toBe(1);
    expect(resume.err).toContain('Reconciliation with Kraken has not passed');
  });

  it('adopt records an unknown open order as an external intent followed by its client order id; the halt lifts', async () => {
    kraken.addOrder(order({ txid: 'OMANU2-AAAAA-BBBBBB', cl_ord_id: 'by-hand-2' }));
    await runReconciliation(ctx, { cause: 'start' });
    const r = await ctb(['reconcile', 'adopt', 'omanu2-aaaaa-bbbbbb']);
    expect(r.code, r.err + r.out).toBe(0);
    expect(r.out).toMatch(/recorded as intent #\d+ of strategy "external", followed by client order id by-hand-2/);
    expect(r.out).toContain('Reconciliation passes: the reconciliation halt is lifted');
    const [adopted] = await database.db.select().from(orderIntents).where(eq(orderIntents.exchangeOrderId, 'OMANU2-AAAAA-BBBBBB'));
    expect(adopted).toMatchObject({ strategy: 'external', status: 'open', clientOrderId: 'by-hand-2', side: 'buy', purpose: 'entry', quantity: expect.stringMatching(/^0\.01/) });
    const state = await getBotState(database.db);
    expect(state).toMatchObject({ halted: false, reconciliationBlocked: false, reconciliationDetails: null });
    expect(state.reconciledThrough).not.toBeNull();
    expect(kraken.orderChangingCalls()).toEqual([]);
  });

  it('refuses to adopt an order without a client order id (the bot could not follow it); cancel removes it on Kraken and the halt lifts', async () => {
    kraken.addOrder(order({ txid: 'OMANU3-AAAAA-BBBBBB' }));
    await runReconciliation(ctx, { cause: 'start' });
    const refused = await ctb(['reconcile', 'adopt', 'OMANU3-AAAAA-BBBBBB']);
    expect(refused.code).toBe(1);
    expect(refused.err).toContain('Cannot adopt Kraken order OMANU3-AAAAA-BBBBBB: it has no client order id Kraken finds it by');
    expect(refused.err).toContain('ctb reconcile cancel OMANU3-AAAAA-BBBBBB');
    expect((await getBotState(database.db)).halted).toBe(true);

    const cancelled = await ctb(['reconcile', 'cancel', 'OMANU3-AAAAA-BBBBBB']);
    expect(cancelled.code, cancelled.err).toBe(0);
    expect(cancelled.out).toContain('Kraken order OMANU3-AAAAA-BBBBBB cancelled; Kraken no longer lists it open.');
    expect(cancelled.out).toContain('the reconciliation halt is lifted');
    expect(kraken.callsTo('CancelOrder').map((c) => c.params['txid'])).toEqual(['OMANU3-AAAAA-BBBBBB']);
    expect(kraken.state.orders.get('OMANU3-AAAAA-BBBBBB')?.status).toBe('canceled');
    expect(await getBotState(database.db)).toMatchObject({ halted: false, reconciliationBlocked: false });
  });

  it('adopts a buy nobody placed into the ledger as an external position, and refuses a foreign sell of a pair the bot holds', async () => {
    // The bot has reconciled up to an hour ago: Kraken's trades since then must all be explained.
    await updateBotState(database.db, ctx.clock, { reconciledThrough: new Date(Date.now() - 3_600_000) });
    kraken.addTrades([trade({ txid: 'TEXT01-AAAAA-BBBBBB', ordertxid: 'OEXT01-AAAAA-BBBBBB', type: 'buy', vol: '0.02000000', price: '49000.0', fee: '2.50000' })]);
    await runReconciliation(ctx, { cause: 'start' });
    const r = await ctb(['reconcile', 'adopt', 'TEXT01-AAAAA-BBBBBB']);
    expect(r.code, r.err + r.out).toBe(0);
    const [fill] = await database.db.select().from(fills).where(eq(fills.exchangeTradeId, 'TEXT01-AAAAA-BBBBBB'));
    expect(fill).toMatchObject({ mode: 'live', side: 'buy', exchangeOrderId: 'OEXT01-AAAAA-BBBBBB' });
    expect(Number(fill!.quantity)).toBe(0.02);
    const [position] = await database.db.select().from(trades).where(eq(trades.strategy, 'external'));
    expect(position).toMatchObject({ status: 'open', mode: 'live', symbol: 'BTC/USD' });
    expect(Number(position!.entryPrice)).toBe(49000);
    expect((await getBotState(database.db)).halted).toBe(false);

    // Now the bot holds BTC/USD: a sell it did not place cannot be tied to a position.
    kraken.addTrades([trade({ txid: 'TEXT02-AAAAA-BBBBBB', ordertxid: 'OEXT02-AAAAA-BBBBBB', type: 'sell', time: nowSec() - 30 })]);
    await runReconciliation(ctx, { cause: 'retry' });
    const refused = await ctb(['reconcile', 'adopt', 'TEXT02-AAAAA-BBBBBB']);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/Cannot adopt TEXT02-AAAAA-BBBBBB: it sells BTC\/USD, and the bot holds 1 open live position/);
    const cancelFill = await ctb(['reconcile', 'cancel', 'TEXT02-AAAAA-BBBBBB']);
    expect(cancelFill.code).toBe(0); // nothing open to cancel: it says so, and the difference stays
    expect(cancelFill.out).toContain('is not open on Kraken: nothing to cancel');
    expect((await getBotState(database.db)).reconciliationBlocked).toBe(true);
  });

  it('blocks on a ledger fill Kraken disagrees with, and refuses to adopt it (the ledger needs correcting by hand)', async () => {
    const mine = await intent({ clientOrderId: 'a0b1c2d3-0000-4000-8000-000000000003', exchangeOrderId: 'OMINE1-AAAAA-BBBBBB' });
    const t = trade({ txid: 'TMINE1-AAAAA-BBBBBB', ordertxid: 'OMINE1-AAAAA-BBBBBB' });
    kraken.addTrades([t]);
    await ledgerFill(mine.id, t, { quantity: '0.03' });
    const run = await runReconciliation(ctx, { cause: 'start' });
    expect(run.differences).toMatchObject([{ kind: 'fill_mismatch', id: 'TMINE1-AAAAA-BBBBBB', fields: ['quantity'] }]);
    const r = await ctb(['reconcile', 'adopt', 'TMINE1-AAAAA-BBBBBB']);
    expect(r.code).toBe(1);
    expect(r.err).toContain('Cannot adopt TMINE1-AAAAA-BBBBBB');
    expect(r.err).toContain('correct the ledger row by hand');
    expect((await getBotState(database.db)).reconciliationBlocked).toBe(true);
  });

  it('never lifts a halt it did not place (a kill), even when it passes', async () => {
    await updateBotState(database.db, ctx.clock, { halted: true, haltedReason: 'fills look wrong', haltedBy: 'UOPS1', haltedAt: new Date() });
    kraken.addOrder(order({ txid: 'OMANU4-AAAAA-BBBBBB', cl_ord_id: 'by-hand-4' }));
    const blocked = await runReconciliation(ctx, { cause: 'start' });
    expect(blocked.halt).toBe('unchanged');
    expect(await getBotState(database.db)).toMatchObject({ halted: true, haltedBy: 'UOPS1', haltedReason: 'fills look wrong', reconciliationBlocked: true });
    expect((await ctb(['reconcile', 'cancel', 'OMANU4-AAAAA-BBBBBB'])).code).toBe(0);
    expect(await getBotState(database.db)).toMatchObject({ halted: true, haltedBy: 'UOPS1', reconciliationBlocked: false });
  });

  it('from a shell without the key, hands cancel and adopt to the engine process and reports its answer; with no engine it says pending and exits 1', async () => {
    kraken.addOrder(order({ txid: 'OMANU5-AAAAA-BBBBBB' }));
    kraken.addOrder(order({ txid: 'OMANU6-AAAAA-BBBBBB', cl_ord_id: 'by-hand-6' }));
    await runReconciliation(ctx, { cause: 'start' });

    const waiting = await ctb(['reconcile', 'cancel', 'OMANU5-AAAAA-BBBBBB'], { ...noKeys, RECONCILE_ANSWER_TIMEOUT: '1s' });
    expect(waiting.code).toBe(1);
    expect(waiting.out).toMatch(/request #\d+ asks the engine's process to cancel OMANU5-AAAAA-BBBBBB; it is still pending/);
    expect(kraken.callsTo('CancelOrder')).toEqual([]);
    await database.db.execute(sql`delete from engine_requests`);

    // The engine's process (it has the key) carries requests out.
    const runner = startRequestRunner(ctx, { holder: 'engine', handlers: engineRequestHandlers(ctx), pollMs: 50 });
    try {
      const cancel = await ctb(['reconcile', 'cancel', 'OMANU5-AAAAA-BBBBBB'], noKeys);
      expect(cancel.code, cancel.out + cancel.err).toBe(0);
      expect(cancel.out).toContain('Kraken order OMANU5-AAAAA-BBBBBB cancelled; Kraken no longer lists it open.');
      expect(cancel.out).toMatch(/by the engine's process \(request #\d+\)/);
      const adopt = await ctb(['reconcile', 'adopt', 'OMANU6-AAAAA-BBBBBB'], noKeys);
      expect(adopt.code, adopt.out + adopt.err).toBe(0);
      expect(adopt.out).toContain('the reconciliation halt is lifted');
    } finally {
      await runner.stop();
    }
    expect(await getBotState(database.db)).toMatchObject({ halted: false, reconciliationBlocked: false });
  });

  it('refuses a txid that is not a Kraken id, naming what is expected', async () => {
    const r = await ctb(['reconcile', 'adopt', 'not an id;']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('is not a Kraken id: expected one such as OQCLML-BW3P3-BUCMWZ');
  });
});

describe("the engine's reconciliation gate", () => {
  it('keeps live trading shut until a reconciliation passes, shuts it while Kraken does not answer, and reconciles again once it is back', async () => {
    // probeMs 0: every tick probes (and retries) — with 1 ms, a tick in the same millisecond as the
    // last run's end (a quick machine) skipped its probe and the test saw 'passed'.
    const monitor = createReconciliationMonitor(ctx, { timer: false, probeMs: 0 });
    expect(monitor.blockReason('live')).toMatch(/waits for reconciliation/);
    expect(monitor.blockReason('paper')).toBeNull(); // paper trades without it
    await monitor.begin(null);
    await monitor.tick();
    expect(monitor.status()).toBe('passed');
    expect(monitor.blockReason('live')).toBeNull();

    kraken.failNext('OpenOrders', 'EService:Unavailable', 3);
    await monitor.tick();
    expect(monitor.status()).toBe('unreachable');
    expect(monitor.blockReason('live')).toMatch(/waits for reconciliation with Kraken \(unreachable\)/);
    // While it was away, an order nobody placed appeared: the reconciliation after the outage finds it.
    kraken.addOrder(order({ txid: 'OAWAY1-AAAAA-BBBBBB', cl_ord_id: 'while-away' }));
    kraken.simulator.faults.clear();
    await monitor.tick();
    expect(monitor.status()).toBe('blocked');
    expect(monitor.lastRun()).toMatchObject({ ok: false, cause: 'reconnect', differences: [{ kind: 'unknown_order', id: 'OAWAY1-AAAAA-BBBBBB' }] });
    expect(await getBotState(database.db)).toMatchObject({ halted: true, haltedReason: 'reconciliation' });
    // The order goes away without an operator (the halt's own cancel on Kraken): the block stays until a person looks.
    kraken.state.orders.get('OAWAY1-AAAAA-BBBBBB')!.status = 'canceled';
    await monitor.tick();
    await monitor.tick();
    expect(monitor.status()).toBe('blocked');
    expect((await getBotState(database.db)).halted).toBe(true);
    // An operator looks again (ctb reconcile with the key reconciles first): it passes, and the engine's gate opens.
    const look = await ctb(['reconcile']);
    expect(look.code, look.out + look.err).toBe(0);
    expect(look.out).toContain('reconciliation with Kraken: not blocking live trading — the last reconciliation the bot ran passed, through ');
    expect(look.out).not.toContain('reconciliation with Kraken: OK');
    await monitor.tick();
    expect(monitor.status()).toBe('passed');
    expect(await getBotState(database.db)).toMatchObject({ halted: false, reconciliationBlocked: false });
    await monitor.stop();
  });

  it('an armed engine that takes over from a dead one halts first, visibly, before anything is reconciled', async () => {
    const monitor = createReconciliationMonitor(ctx, { timer: false, probeMs: 0 }); // every tick probes (see above)
    kraken.failNext('OpenOrders', 'EService:Unavailable', 5);
    await monitor.begin('dead-host:1234:0badf00d');
    await monitor.tick();
    expect(await getBotState(database.db)).toMatchObject({
      halted: true, haltedReason: 'reconciliation', haltedBy: 'system:reconciliation', reconciliationBlocked: true,
      reconciliationDetails: { cause: 'takeover', pending: true, takenOverFrom: 'dead-host:1234:0badf00d' },
    });
    expect(alerts.find((a) => a.fingerprint === 'engine-takeover')?.title).toContain('Engine taken over from dead-host:1234:0badf00d');
    const status = await ctb(['reconcile'], noKeys);
    expect(status.out).toContain('the engine was taken over from dead-host:1234:0badf00d');
    await monitor.stop();
  });
});
