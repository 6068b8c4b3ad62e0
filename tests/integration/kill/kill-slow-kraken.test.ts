// `ctb kill` from a shell while the bot trades live on a Kraken that is slow and faulty but reachable:
// the fault mix the live soak had injected when its kill once answered "could not be confirmed"
// ("every call 2 s slower ×6", QueryTrades EService:Unavailable), put exactly at the kill, with an
// order of the bot's on its way (its intent written before the halt) and an order resting on Kraken.
// The kill must still confirm zero open orders at Kraken and exit 0: its wait for an order on its way
// must outlast a slow AddOrder (it waited the database's 3 s and gave up), and an order path that
// has learned of the halt must not send. Real processes where the soak has them: the shell is
// `node bin/ctb.js kill` (it signs with the bot's key, so a slow call of one process can have its
// nonce refused after the other's); the bot is the engine's order path with the kill's halt watcher
// and halt cancel, in this process, against the Kraken simulator (market orders filled in slices
// over ticks, as in the soak: one placed after the kill's cancel stays open) and PostgreSQL.
import { ALONE_BY_CONSTRUCTION } from '../../../src/engine/ledger/intent-lease.js';
import { eq } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { orderIntents } from '../../../src/db/schema/index.js';
import { executeOrder, type OrderHooks, type OrderOutcome } from '../../../src/engine/order-executor.js';
import { Portfolio } from '../../../src/engine/portfolio.js';
import { dec } from '../../../src/money.js';
import { getBotState } from '../../../src/services/bot-state.js';
import { cancelOnHalt } from '../../../src/services/kill/halt-cancel.js';
import { startHaltWatcher } from '../../../src/services/kill/halt-watcher.js';
import { isHaltLatched } from '../../../src/services/kill/runtime.js';
import type { FaultSpec } from '../../../src/simulator/faults.js';
import { isOpen } from '../../../src/simulator/types.js';
import { createPostgresTestDb } from '../../support/db.js';
import { ctbInShell, type ShellRun } from '../../support/ctb-shell.js';
import { TEST_API_KEY, TEST_API_SECRET } from '../../support/kraken-test-keys.js';
import { liveContext, startLiveKraken, type LiveKraken } from '../../support/live-engine.js';
import { privateCall } from '../../support/simulator.js';

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!().catch(() => {});
});

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What the live soak had injected when its kill could not confirm. */
const SOAK_MIX: FaultSpec[] = [
  { endpoint: '*', kind: 'latency', ms: 2_000, times: 6 },
  { endpoint: 'QueryTrades', kind: 'error', message: 'EService:Unavailable' },
];

const STRATEGY = 'slow-kraken';

/**
 * Kraken (the simulator, with an order resting on it), PostgreSQL, and the running bot: armed, with
 * the key, its halt watcher polling bot_state and cancelling on Kraken when it learns of a halt (what
 * the kill feature wires in `ctb start`). `entry(hooks)` runs one live entry through the engine's order path.
 */
async function world() {
  const database = await createPostgresTestDb();
  cleanup.push(() => database.close());
  const kraken = await startLiveKraken({ fillSlices: 3 });
  cleanup.push(() => kraken.sim.close());
  const resting = await privateCall(kraken.sim, 'AddOrder', { pair: 'XBTUSD', type: 'buy', ordertype: 'limit', price: '30000', volume: '0.01' });
  expect(resting.body.error).toEqual([]);
  const t = await liveContext(database, kraken, { HALT_POLL_INTERVAL: '200ms' });
  cleanup.push(() => t.ctx.close());
  const offHalt = t.ctx.kill.latch.onHalt((reason) => void cancelOnHalt(t.ctx, reason));
  cleanup.push(async () => offHalt());
  const watcher = await startHaltWatcher(t.ctx);
  cleanup.push(() => watcher.stop());
  t.ctx.prices.update({ candle: { symbol: 'BTC/USD', openTime: new Date(t.clock.now().getTime() - 60_000), open: 60_000, high: 60_000, low: 60_000, close: 60_000, volume: 10 } });
  const portfolio = new Portfolio();
  portfolio.setCash(dec(10_000));
  const entry = (hooks: OrderHooks): Promise<OrderOutcome> => executeOrder({ lease: ALONE_BY_CONSTRUCTION, ctx: t.ctx, mode: 'live', feed: 'kraken', exchange: t.ctx.exchanges.forMode('live'), portfolio, hooks },
    { purpose: 'entry', strategy: STRATEGY, symbol: 'BTC/USD', side: 'buy', quantity: dec('0.01'), reason: 'test', referencePrice: dec(60_000) });
  const kill = () => ctbInShell(['kill', '--reason', 'slow kraken'], { DATABASE_URL: database.url, KRAKEN_API_KEY: TEST_API_KEY, KRAKEN_API_SECRET: TEST_API_SECRET, KRAKEN_API_URL: kraken.sim.url });
  const intents = () => database.db.select().from(orderIntents).where(eq(orderIntents.strategy, STRATEGY));
  return { database, kraken, t, entry, kill, intents };
}

function expectConfirmed(run: ShellRun, kraken: LiveKraken): void {
  const why = `exit ${run.code}\n${run.stdout}\n${run.stderr.slice(-3000)}`;
  expect(run.code, why).toBe(0);
  expect(run.stdout.split('\n')[0], why).toBe('KILLED — every open order cancelled.');
  expect(run.stdout, why).toMatch(/^ {2}kraken: \d+ cancelled, none open \(confirmed\)$/m);
  expect([...kraken.sim.state.orders.values()].filter(isOpen).map((o) => `${o.txid} ${o.ordertype} ${o.vol_exec}/${o.vol}`), 'orders open at Kraken after the kill').toEqual([]);
}

describe('ctb kill on a slow, faulty Kraken while the bot has an order on its way', () => {
  it('waits out an AddOrder already on its way to a slow Kraken (longer than the database deadline), cancels after it, confirms zero open orders and exits 0', async () => {
    const w = await world();
    // The bot's AddOrder reaches Kraken slowly (answered after 8 s, inside its client's 10 s): the
    // operator kills from a shell while it is on its way, with the soak's fault mix arriving too.
    w.kraken.sim.faults.add({ endpoint: 'AddOrder', kind: 'latency', ms: 8_000 });
    const placing = w.entry({});
    for (let i = 0; i < 400 && !w.kraken.sim.calls.some((c) => c.endpoint === 'AddOrder' && c.params['cl_ord_id']); i++) await pause(25);
    for (const f of SOAK_MIX) w.kraken.sim.faults.add(f);
    const run = await w.kill();
    await placing;
    expectConfirmed(run, w.kraken);
    expect((await w.intents()).map((i) => i.status), 'the entry: answered by Kraken before the kill answered').not.toContain('pending');
    expect(await getBotState(w.database.db)).toMatchObject({ halted: true, mode: 'paper' });
  }, 120_000);

  it('an order path that learned of the halt before sending does not send: its intent is closed at once and Kraken never sees it', async () => {
    const w = await world();
    let kill: Promise<ShellRun> | undefined;
    // The intent is written before the halt; the kill arrives, and the bot learns of the halt (its
    // watcher's poll) while this order is between its intent and its AddOrder — on a slow Kraken its
    // funds check alone takes seconds. No latency here: a delayed BalanceEx can have its nonce refused
    // and the funds check then refuses the order itself, which would not tell whether the halt did.
    const placing = w.entry({
      afterIntent: async () => {
        w.kraken.sim.faults.add({ endpoint: 'QueryTrades', kind: 'error', message: 'EService:Unavailable' });
        kill = w.kill();
        for (let i = 0; i < 600 && !isHaltLatched(w.t.ctx); i++) await pause(50);
      },
    });
    expect(await placing).toMatchObject({ kind: 'skipped', reason: 'halted' });
    const run = await kill!;
    expectConfirmed(run, w.kraken);
    const [intent] = await w.intents();
    expect(intent, 'the entry intent').toMatchObject({ status: 'refused', error: 'halted before it was sent', exchangeOrderId: null });
    expect(w.kraken.addOrders().filter((o) => o['cl_ord_id'] === intent!.clientOrderId), 'AddOrders Kraken received for it').toEqual([]);
  }, 120_000);
});
