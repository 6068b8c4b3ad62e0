// An open order on Kraken that the bot did not place, appearing while the bot trades live — not at
// start, not on reconnect: the engine's periodic look at Kraken's open orders (the monitor's probe,
// driven tick by tick) finds it, reconciles, and blocks live trading with one critical alert; `ctb
// reconcile` lists it with what to do and exits 1 even before the engine has seen it. Against the fake
// Kraken (the simulator, answering OpenOrders in Kraken's format) and a real database.
import { beforeEach, describe, expect, it } from 'vitest';
import type { AlertInput } from '../../../src/alerts/types.js';
import type { OwnedContext } from '../../../src/app/build-context.js';
import { orderIntents } from '../../../src/db/schema/index.js';
import { getBotState, updateBotState } from '../../../src/services/bot-state.js';
import { createReconciliationMonitor } from '../../../src/services/reconcile/start/monitor.js';
import type { TestDatabase } from '../../support/db.js';
import { liveKrakenBed } from '../../support/live-kraken-bed.js';
import type { FakeKraken, FakeOrder } from '../../support/fake-kraken.js';

const FOREIGN = 'OHAND1-AAAAA-BBBBBB';
const OURS = 'OBOT01-AAAAA-BBBBBB';
const bed = liveKrakenBed('ctb-open-orders-');
const { ctb } = bed;
let database: TestDatabase;
let kraken: FakeKraken;
/** What `ctb reconcile` calls the simulator KRAKEN_API_URL points at: never Kraken. */
const simulator = () => `the exchange at ${new URL(kraken.url).origin} (KRAKEN_API_URL, not Kraken)`;
let ctx: OwnedContext;
let alerts: AlertInput[];

beforeEach(async () => {
  ({ database, kraken } = bed.current);
  alerts = [];
  ctx = await bed.context(alerts);
  await updateBotState(database.db, ctx.clock, { mode: 'live' });
  // The bot's own resting order: explained by its intent, never a difference.
  const at = new Date(Date.now() - 3_600_000);
  await database.db.insert(orderIntents).values({
    clientOrderId: 'a0b1c2d3-0000-4000-8000-000000000009', exchangeOrderId: OURS, mode: 'live', feed: 'kraken', strategy: 'test-ma', symbol: 'BTC/USD',
    side: 'buy', purpose: 'entry', type: 'limit', quantity: '0.01', limitPrice: '40000', status: 'open', createdAt: at, updatedAt: at,
  });
  kraken.addOrder(order({ txid: OURS, cl_ord_id: 'a0b1c2d3-0000-4000-8000-000000000009' }));
});

/** A resting limit buy as Kraken's OpenOrders lists it. */
const order = (over: Partial<FakeOrder> & Pick<FakeOrder, 'txid'>): FakeOrder => ({
  pair: 'XBTUSD', type: 'buy', ordertype: 'limit', price: '40000.0', vol: '0.01000000', vol_exec: '0.00000000', status: 'open',
  opentm: Math.floor(Date.now() / 1000) - 60, ...over,
});

const critical = () => alerts.filter((a) => a.severity === 'critical');

describe("the engine's periodic look at Kraken's open orders", () => {
  it('blocks live trading with one critical alert when an order nobody placed appears while it trades; the block lifts the way any reconciliation block does', async () => {
    const monitor = createReconciliationMonitor(ctx, { timer: false, probeMs: 0 }); // every tick probes
    await monitor.begin(null);
    await monitor.tick();
    expect(monitor.status()).toBe('passed');
    await monitor.tick(); // a probe with only the bot's own order open: nothing to do
    expect(monitor.status()).toBe('passed');
    expect(monitor.lastRun()?.cause).toBe('start');

    // Someone places a limit buy with the same key while the bot trades.
    kraken.addOrder(order({ txid: FOREIGN, cl_ord_id: 'by-hand-7' }));
    await monitor.tick();
    expect(monitor.status()).toBe('blocked');
    expect(monitor.blockReason('live')).toMatch(/waits for reconciliation with Kraken \(blocked\)/);
    expect(monitor.lastRun()).toMatchObject({ ok: false, cause: 'open_orders', differences: [{ kind: 'unknown_order', id: FOREIGN }] });
    expect(await getBotState(database.db)).toMatchObject({ halted: true, haltedReason: 'reconciliation', haltedBy: 'system:reconciliation', reconciliationBlocked: true });
    expect(critical()).toMatchObject([{ source: 'reconciliation', fingerprint: 'reconciliation-blocked' }]);
    expect(JSON.stringify(critical()[0]!.details)).toContain(`unknown_order ${FOREIGN}`);
    // Later ticks do not page again.
    await monitor.tick();
    await monitor.tick();
    expect(critical()).toHaveLength(1);
    const status = await ctb(['mode', 'status']);
    expect(status.out).toMatch(/reconciliation with Kraken: BLOCKED since \S+ \(open_orders\) — 1 difference\(s\) the bot cannot explain/);

    const still = await ctb(['reconcile']);
    expect(still.code).toBe(1);
    expect(still.out).toContain(`→ ctb reconcile adopt ${FOREIGN}  |  ctb reconcile cancel ${FOREIGN}`);
    expect(still.out).toContain(`Open orders on ${simulator()}: 2, 1 the bot cannot explain (listed above)`); // listed once, in the standing

    // The order goes away; an operator looks again (ctb reconcile with the key reconciles first): it lifts.
    kraken.state.orders.get(FOREIGN)!.status = 'canceled';
    const look = await ctb(['reconcile']);
    expect(look.code, look.out + look.err).toBe(0);
    await monitor.tick();
    expect(monitor.status()).toBe('passed');
    expect(await getBotState(database.db)).toMatchObject({ halted: false, reconciliationBlocked: false });
    expect(kraken.orderChangingCalls()).toEqual([]);
    await monitor.stop();
  });
});

describe('ctb reconcile and open orders', () => {
  it('lists an open order the bot cannot explain with what to do, and exits 1 (text and --json), before the engine has seen it', async () => {
    kraken.addOrder(order({ txid: FOREIGN }));
    const r = await ctb(['reconcile']);
    expect(r.code, r.out + r.err).toBe(1);
    expect(r.out).toContain(`Open orders on ${simulator()}: 2, 1 the bot cannot explain — resolve each`);
    expect(r.out).toContain(`unknown_order ${FOREIGN}: open buy 0.01000000 BTC/USD`);
    // Placed by hand without a client order id: the bot could not follow it, so only cancel is offered.
    expect(r.out).toContain(`→ ctb reconcile cancel ${FOREIGN}  (adopt is not possible: the order has no client order id`);
    expect(r.out).toContain(`RECONCILE FAILED — 1 open order(s) on ${simulator()} the bot cannot explain`);
    expect(r.out).not.toContain(OURS);

    const json = await ctb(['reconcile', '--json']);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.out)).toMatchObject({ ok: false, openOrders: { onKraken: 2, unexplained: [{ kind: 'unknown_order', id: FOREIGN }] } });
    expect(kraken.orderChangingCalls()).toEqual([]);
  });

  it('exits 0 when every open order is the bot’s own', async () => {
    const r = await ctb(['reconcile']);
    expect(r.code, r.out + r.err).toBe(0);
    expect(r.out).toContain(`Open orders on ${simulator()}: 1, none the bot cannot explain`);
  });
});
