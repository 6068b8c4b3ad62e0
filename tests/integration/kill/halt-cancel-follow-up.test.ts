// A bot restarted into a reconciliation halt (no incident) while Kraken is in maintenance: the halt's
// cancel cannot reach Kraken, so it goes on as the same follow-up request a kill writes, and the bot's
// cancel_all runner retries it until Kraken, back online, confirms zero open orders — the outcome
// logged and told to the halt's alert. Real PostgreSQL, the Kraken simulator, the project's Kraken
// adapter, one manual clock moved by the test.
import { eq, sql } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/clock.js';
import { acquireLease } from '../../../src/db/queries/engine-lease.js';
import { engineRequests } from '../../../src/db/schema/index.js';
import { updateBotState } from '../../../src/services/bot-state.js';
import { startCancelAllRunner } from '../../../src/services/engine-requests/handlers.js';
import { followUpRetryDelayMs } from '../../../src/services/kill/cancel-follow-up.js';
import { cancelOnHalt, haltCancelSince } from '../../../src/services/kill/halt-cancel.js';
import { startHaltWatcher } from '../../../src/services/kill/halt-watcher.js';
import { isOpen } from '../../../src/simulator/types.js';
import { createPostgresTestDb } from '../../support/db.js';
import { liveContext, passUntilDue, startLiveKraken } from '../../support/live-engine.js';
import { privateCall } from '../../support/simulator.js';

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!().catch(() => {});
});

async function world() {
  const clock = new ManualClock('2026-01-05T12:00:00Z');
  const database = await createPostgresTestDb();
  cleanup.push(() => database.close());
  const kraken = await startLiveKraken({ clock });
  cleanup.push(() => kraken.sim.close());
  const resting = await privateCall(kraken.sim, 'AddOrder', { pair: 'XBTUSD', type: 'buy', ordertype: 'limit', price: '30000', volume: '0.01' });
  expect(resting.body.error).toEqual([]);
  const t = await liveContext(database, kraken, { KILL_CONFIRM_ATTEMPTS: '1', KILL_CONFIRM_WAIT: '1ms', KRAKEN_RATE_TIER: 'starter' }, { clock });
  cleanup.push(() => t.ctx.close());
  const openAtKraken = () => [...kraken.sim.state.orders.values()].filter(isOpen).length;
  const requests = () => database.db.select().from(engineRequests);
  const request = async (id: number) => (await database.db.select().from(engineRequests).where(eq(engineRequests.id, id)))[0]!;
  return { clock, database, kraken, t, openAtKraken, requests, request };
}

/** What the halt's outputs call the simulator KRAKEN_API_URL points at: never Kraken. */
const venueOf = (w: Awaited<ReturnType<typeof world>>) => `the exchange at ${new URL(w.kraken.sim.url).origin} (KRAKEN_API_URL, not Kraken)`;

/** The bot restarts halted by reconciliation during a Kraken maintenance: its halt watcher latches, halt means cancel. */
async function restartIntoHaltDuringMaintenance(w: Awaited<ReturnType<typeof world>>) {
  await updateBotState(w.database.db, w.clock, { halted: true, haltedReason: 'reconciliation: ledger and Kraken disagree', haltedAt: w.clock.now(), haltedBy: 'system:reconcile' });
  w.kraken.sim.state.systemStatus = 'maintenance';
  // As the kill feature wires it in a trading process with the key.
  const stop = w.t.ctx.kill.latch.onHalt((reason) => void cancelOnHalt(w.t.ctx, reason));
  cleanup.push(async () => stop());
  const watcher = await startHaltWatcher(w.t.ctx, { timer: false });
  cleanup.push(() => watcher.stop());
  const cancel = haltCancelSince(w.t.ctx, 0);
  expect(cancel, 'the halt started a cancel').not.toBeNull();
  const report = await cancel!;
  expect(report).toMatchObject({ confirmed: false });
  expect(w.openAtKraken()).toBe(1);
}

describe("a halt's cancel that Kraken could not confirm", () => {
  it('goes on as a follow-up request without an incident, which the bot retries until Kraken, back from maintenance, confirms', async () => {
    const w = await world();
    await restartIntoHaltDuringMaintenance(w);
    const written = await w.requests();
    expect(written).toHaveLength(1);
    const requestId = written[0]!.id;
    expect(written[0]).toMatchObject({ kind: 'cancel_all', status: 'pending', incidentId: null, params: expect.objectContaining({ followUp: true, halt: true }) });
    expect(w.t.alerts.raised.at(-1)).toMatchObject({ severity: 'critical', fingerprint: 'halt-cancel:unconfirmed' });
    // What is confirmed (halted), what is not (the simulator's open orders, named as itself, not as
    // Kraken), and what is still pending: no engine holds the lease, so the request waits for a bot
    // with the key — no bot is said to go on.
    const venue = venueOf(w);
    expect(w.t.alerts.raised.at(-1)?.title).toBe(
      `Halted, but zero open orders on ${venue} could not be confirmed after cancelling — pending: request #${requestId} waits for a bot with the key for ${venue} to go on cancelling; until ${venue} confirms none open, orders may remain`);

    // The bot's runner takes it while Kraken is still in maintenance: pending, with its next try.
    const runner = startCancelAllRunner(w.t.ctx, { holder: 'bot-1:7', timer: false });
    cleanup.push(() => runner.stop());
    expect(await runner.drain()).toBe(1);
    // Its next try, named as the database holds it (the moment it is due on that clock).
    const pending = await w.request(requestId);
    expect(pending).toMatchObject({ status: 'pending', notBefore: expect.any(Date) });
    expect(pending.result).toMatchObject({ nextTryAt: pending.notBefore!.toISOString() });
    expect(w.openAtKraken()).toBe(1);

    // Kraken is back; at its next try the bot cancels and confirms.
    w.kraken.sim.state.systemStatus = 'online';
    await passUntilDue(w.database, requestId, w.clock);
    expect(await runner.drain()).toBe(1);
    expect(w.openAtKraken(), 'orders open at Kraken').toBe(0);
    const done = await w.request(requestId);
    expect(done, JSON.stringify(done.result)).toMatchObject({ status: 'done' });
    expect(w.t.alerts.raised.at(-1)).toMatchObject({ severity: 'info', fingerprint: 'halt-cancel:unconfirmed', title: expect.stringMatching(/^Halted: zero open orders on Kraken now confirmed/) });
  }, 60_000);

  it('names the running bot with the key for the venue (here KRAKEN_API_URL\'s stand-in) that goes on cancelling when the engine lease says one runs', async () => {
    const w = await world();
    await acquireLease(w.database.db, { holderId: 'h-1', host: 'bot-host', pid: 4242, role: 'worker', feed: 'kraken', armed: true, hasKrakenKeys: true }, 15_000);
    await restartIntoHaltDuringMaintenance(w);
    const [written] = await w.requests();
    expect(w.t.alerts.raised.at(-1)?.title).toBe(
      `Halted, but zero open orders on ${venueOf(w)} could not be confirmed after cancelling — pending: the running bot (bot-host:4242) with the key for ${venueOf(w)} goes on cancelling as request #${written!.id} until ${venueOf(w)} confirms none open`);
  }, 60_000);

  it('says nothing goes on when the follow-up cannot be written, and why', async () => {
    const w = await world();
    // A follow-up's write meets a table it cannot write: the cancel is not handed on.
    await w.database.db.execute(sql`create function refuse_follow_up() returns trigger language plpgsql as $$ begin raise exception 'follow-ups refused for the test'; end $$`);
    await w.database.db.execute(sql`create trigger refuse_follow_up before insert on engine_requests for each row execute function refuse_follow_up()`);
    await restartIntoHaltDuringMaintenance(w);
    expect(await w.requests()).toHaveLength(0);
    // What the database said, not the query it refused.
    expect(w.t.alerts.raised.at(-1)?.title).toBe(
      `Halted, but zero open orders on ${venueOf(w)} could not be confirmed after cancelling — the cancel could not be handed on (a database query failed: follow-ups refused for the test): orders may remain open on ${venueOf(w)}`);
  }, 60_000);

  it('stops without calling Kraken once the halt is lifted', async () => {
    const w = await world();
    await restartIntoHaltDuringMaintenance(w);
    const [written] = await w.requests();
    await updateBotState(w.database.db, w.clock, { halted: false, haltedReason: null, haltedAt: null, haltedBy: null });
    w.kraken.sim.state.systemStatus = 'online';
    const calls = w.kraken.sim.calls.filter((c) => c.api === 'private').length;
    const runner = startCancelAllRunner(w.t.ctx, { holder: 'bot-1:7', timer: false });
    cleanup.push(() => runner.stop());
    expect(await runner.drain()).toBe(1);
    expect(await w.request(written!.id)).toMatchObject({ status: 'failed', error: 'Stopped after 0 tries: the halt was lifted (trading resumed).' });
    expect(w.kraken.sim.calls.filter((c) => c.api === 'private').length).toBe(calls);
  }, 60_000);
});
