// A reconciliation block has one home, the database: one written by another process (a shell, another
// engine) shuts the engine's gate exactly as one its own monitor wrote, and stays until an operator
// lifts it — the halt's own cancel removing the order, a failed probe of Kraken, a reconnect or retry
// reconciliation that then finds nothing: none of them lifts it. Against the fake Kraken (the
// simulator) and a real PostgreSQL; the monitor's ticks are driven directly.
import { beforeEach, describe, expect, it } from 'vitest';
import type { OwnedContext } from '../../../src/app/build-context.js';
import { getBotState, updateBotState } from '../../../src/services/bot-state.js';
import { createReconciliationMonitor } from '../../../src/services/reconcile/start/monitor.js';
import { runReconciliation } from '../../../src/services/reconcile/start/run.js';
import type { TestDatabase } from '../../support/db.js';
import { liveKrakenBed } from '../../support/live-kraken-bed.js';
import type { FakeKraken, FakeOrder } from '../../support/fake-kraken.js';

const HAND = 'OHAND9-AAAAA-BBBBBB';
const bed = liveKrakenBed('ctb-block-elsewhere-');
const { ctb } = bed;
let database: TestDatabase;
let kraken: FakeKraken;
let engine: OwnedContext;
let shell: OwnedContext;

beforeEach(async () => {
  ({ database, kraken } = bed.current);
  // Two processes on one database: the engine's, and another that holds the key too.
  engine = await bed.context();
  shell = await bed.context();
  await updateBotState(database.db, engine.clock, { mode: 'live' });
});

/** A limit buy placed by hand with the bot's key: Kraken lists it with userref 0 and no cl_ord_id. */
const handOrder = (over: Partial<FakeOrder> = {}): FakeOrder => ({
  txid: HAND, pair: 'XBTUSD', type: 'buy', ordertype: 'limit', price: '40000.0', vol: '0.01000000', vol_exec: '0.00000000', status: 'open',
  opentm: Math.floor(Date.now() / 1000) - 60, ...over,
});

const blockedAndHalted = { halted: true, haltedReason: 'reconciliation', haltedBy: 'system:reconciliation', reconciliationBlocked: true };

describe('a reconciliation block written by another process', () => {
  it('shuts the engine’s gate and stays through a failed probe and a reconciliation that then passes, until an operator lifts it', async () => {
    const monitor = createReconciliationMonitor(engine, { timer: false, probeMs: 0 }); // every tick probes
    await monitor.begin(null);
    await monitor.tick();
    expect(monitor.status()).toBe('passed');

    // Another process finds the hand order first and writes the block (and its halt) in the database.
    kraken.addOrder(handOrder());
    const elsewhere = await runReconciliation(shell, { cause: 'operator' });
    expect(elsewhere).toMatchObject({ ok: false, halt: 'placed', differences: [{ kind: 'unknown_order', id: HAND }] });
    // The halt's cancel removes the order; Kraken then refuses the engine's next look at open orders.
    kraken.state.orders.get(HAND)!.status = 'canceled';
    kraken.failNext('OpenOrders', 'EAPI:Rate limit exceeded', 1);
    await monitor.tick();
    await monitor.tick(); // Kraken answers again, and nothing is unexplained on it now
    await monitor.tick();
    expect(monitor.status()).toBe('blocked');
    expect(monitor.blockReason('live')).toMatch(/waits for reconciliation with Kraken \(blocked\)/);
    expect(await getBotState(database.db)).toMatchObject(blockedAndHalted);

    // A person looks (ctb reconcile with the key reconciles first): it lifts, and the gate opens.
    const look = await ctb(['reconcile']);
    expect(look.code, look.out + look.err).toBe(0);
    await monitor.tick();
    expect(monitor.status()).toBe('passed');
    expect(await getBotState(database.db)).toMatchObject({ halted: false, reconciliationBlocked: false });
    expect(kraken.orderChangingCalls()).toEqual([]);
    await monitor.stop();
  });

  it('is honoured by an engine whose probe had already failed: the reconciliation after the outage does not lift it', async () => {
    const monitor = createReconciliationMonitor(engine, { timer: false, probeMs: 0 });
    await monitor.begin(null);
    await monitor.tick();
    kraken.failNext('OpenOrders', { status: 503 }, 1);
    await monitor.tick();
    expect(monitor.status()).toBe('unreachable');

    kraken.addOrder(handOrder());
    await runReconciliation(shell, { cause: 'operator' });
    kraken.state.orders.get(HAND)!.status = 'canceled';
    await monitor.tick();
    await monitor.tick();
    expect(monitor.status()).toBe('blocked');
    expect(await getBotState(database.db)).toMatchObject(blockedAndHalted);
    await monitor.stop();
  });

  it('is never lifted by a reconnect, retry or start reconciliation that finds nothing; an operator’s does lift it', async () => {
    kraken.addOrder(handOrder());
    await runReconciliation(shell, { cause: 'open_orders' });
    kraken.state.orders.get(HAND)!.status = 'canceled';
    for (const cause of ['reconnect', 'retry', 'start', 'mode_live', 'open_orders'] as const) {
      const run = await runReconciliation(engine, { cause });
      expect(run, cause).toMatchObject({ ok: false, heldForOperator: true, halt: 'unchanged', differences: [] });
      expect(await getBotState(database.db), cause).toMatchObject(blockedAndHalted);
    }
    const byOperator = await runReconciliation(shell, { cause: 'operator' });
    expect(byOperator).toMatchObject({ ok: true, halt: 'lifted', heldForOperator: false });
    expect(await getBotState(database.db)).toMatchObject({ halted: false, reconciliationBlocked: false });
  });
});

describe('ctb reconcile on a block', () => {
  it("asks Kraken for its open orders once, whether its reconciliation lifts the block or not", async () => {
    kraken.addOrder(handOrder());
    await runReconciliation(shell, { cause: 'operator' });
    const openOrdersCalls = () => kraken.callsTo('OpenOrders').length;
    let before = openOrdersCalls();
    const still = await ctb(['reconcile']);
    expect(still.code, still.out + still.err).toBe(1);
    expect(still.out).toContain(`unknown_order ${HAND}: open buy 0.01000000 BTC/USD`);
    expect(openOrdersCalls() - before, 'OpenOrders calls while still blocked').toBe(1);

    kraken.state.orders.get(HAND)!.status = 'canceled';
    before = openOrdersCalls();
    const lifted = await ctb(['reconcile']);
    expect(lifted.code, lifted.out + lifted.err).toBe(0);
    expect(openOrdersCalls() - before, 'OpenOrders calls of the look that lifts it').toBe(1);
    expect(await getBotState(database.db)).toMatchObject({ halted: false, reconciliationBlocked: false });
  });
});

describe('an order placed by hand without a client order id', () => {
  it('ctb reconcile suggests only cancel, says why adopt is not possible, and names no client order id', async () => {
    kraken.addOrder(handOrder());
    const r = await ctb(['reconcile']);
    expect(r.code, r.out + r.err).toBe(1);
    expect(r.out).toContain(`unknown_order ${HAND}: open buy 0.01000000 BTC/USD`);
    expect(r.out).toContain(`→ ctb reconcile cancel ${HAND}  (adopt is not possible: the order has no client order id, and the bot follows its orders by client order id)`);
    expect(r.out).not.toContain(`ctb reconcile adopt ${HAND}`);
    expect(r.out).not.toContain('client order id 0');
    const json = await ctb(['reconcile', '--json']);
    expect(JSON.parse(json.out)).toMatchObject({ openOrders: { unexplained: [{ id: HAND, clientOrderId: null }] } });
  });

  it('a refused adopt changes nothing: no block, no halt, and it says so', async () => {
    kraken.addOrder(handOrder());
    const before = await getBotState(database.db);
    const refused = await ctb(['reconcile', 'adopt', HAND]);
    expect(refused.code).toBe(1);
    expect(refused.err).toContain(`Cannot adopt Kraken order ${HAND}: it has no client order id Kraken finds it by`);
    expect(refused.err).toContain('Nothing was changed.');
    expect(refused.err).toContain(`ctb reconcile cancel ${HAND}`);
    expect(await getBotState(database.db)).toMatchObject({ halted: false, reconciliationBlocked: false, version: before.version });
    expect(kraken.orderChangingCalls()).toEqual([]);
  });
});

describe('ctb mode status while reconciliation blocks', () => {
  it('lists each difference with its txid and what to do, says the halt may have cancelled the order, and names the halt by its cause', async () => {
    const monitor = createReconciliationMonitor(engine, { timer: false, probeMs: 0 });
    await monitor.begin(null);
    await monitor.tick();
    kraken.addOrder(handOrder());
    await monitor.tick();
    expect(monitor.status()).toBe('blocked');
    const r = await ctb(['mode', 'status']);
    expect(r.code, r.out + r.err).toBe(0);
    expect(r.out).toMatch(/reconciliation with Kraken: BLOCKED since \S+ \(open_orders\) — 1 difference\(s\) the bot cannot explain/);
    expect(r.out).toContain(`  unknown_order ${HAND}: open buy 0.01000000 BTC/USD (filled 0) that no order of the bot explains`);
    expect(r.out).toContain(`      → ctb reconcile cancel ${HAND}  (adopt is not possible`);
    expect(r.out).toMatch(/\(as found at \S+; the halt cancels every open order on Kraken, so this order may be gone already — ctb reconcile looks at Kraken now/);
    expect(r.out).toMatch(/^trading state: halted \(no orders at all \(reconciliation with Kraken: halted until it passes\)\) — halted by system:reconciliation at \S+: reconciliation$/m);
    expect(r.out).not.toContain('kill switch');
    await monitor.stop();
  });
});

describe('a kill on a bot reconciliation halted', () => {
  it('stays halted, by the kill, through a ctb reconcile that passes, and ctb incident and mode status say so', async () => {
    kraken.addOrder(handOrder());
    expect(await runReconciliation(shell, { cause: 'operator' })).toMatchObject({ ok: false, halt: 'placed' });
    const killed = await ctb(['kill', '--reason', 'live-nokey']);
    expect(killed.code, killed.out + killed.err).toBe(0);

    // The kill cancelled the hand order on Kraken: the next look finds nothing unexplained.
    const look = await ctb(['reconcile']);
    expect(look.code, look.out + look.err).toBe(0);
    const state = await getBotState(database.db);
    expect(state).toMatchObject({ halted: true, mode: 'paper', reconciliationBlocked: false });
    expect(state.haltedBy).not.toBe('system:reconciliation');
    expect(state.haltedReason).toMatch(/^live-nokey \(already halted by system:reconciliation since \S+: reconciliation\)$/);

    const incident = await ctb(['incident']);
    expect(incident.out).not.toContain('Not halted.');
    expect(incident.out).toContain('live-nokey');
    const status = await ctb(['mode', 'status']);
    expect(status.out).toMatch(/halted: yes.*live-nokey/);
    expect(await runReconciliation(engine, { cause: 'start' })).toMatchObject({ ok: true, halt: 'unchanged' });
    expect(await getBotState(database.db)).toMatchObject({ halted: true, haltedBy: state.haltedBy });
  });
});
