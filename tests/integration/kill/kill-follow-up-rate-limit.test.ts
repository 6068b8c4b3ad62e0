// A kill while Kraken's REST call counter for the key is full (another program made quick private
// reads with the same key): Kraken refuses the kill's CancelAll and OpenOrders, so the kill answers
// unconfirmed and hands the cancel on. The running bot with the key keeps going — one try at a time,
// waiting between tries for the counter to make room, the request pending in the database with its
// next try — and once the counter has fallen its try confirms zero open orders and the incident's
// cancel item is ticked with Kraken's answer. Real PostgreSQL, the Kraken simulator with its rate
// counters on (Starter), the project's Kraken adapter; time is one manual clock for the bot and the
// simulator's counter, moved by the test.
import { eq, sql } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { renderChecklist } from '../../../src/cli/render/kill.js';
import { engineRequests, incidents } from '../../../src/db/schema/index.js';
import { incidentThreadRefresher } from '../../../src/services/kill/incident-thread.js';
import { startCancelAllRunner } from '../../../src/services/engine-requests/handlers.js';
import { CANCEL_FOLLOW_UP_MS, followUpRetryDelayMs } from '../../../src/services/kill/cancel-follow-up.js';
import { roomForMs } from '../../../src/services/kill/kraken-room.js';
import { currentIncident, doChecklistItem } from '../../../src/services/kill/incident.js';
import { executeKill } from '../../../src/services/kill/kill.js';
import { realKillTime, type KillTime } from '../../../src/services/kill/runtime.js';
import { writeFollowUp } from '../../../src/services/kill/follow-up-request.js';
import { isOpen } from '../../../src/simulator/types.js';
import { ageFollowUps, ageRecordedRefusals, liveContext, rateLimitedKrakenWithRestingOrder, passUntilDue, startLiveKraken } from '../../support/live-engine.js';
import { fillRateCounter } from '../../support/simulator.js';

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!().catch(() => {});
});

const operator = { id: 'U0OPERATOR', source: 'slack' as const };

async function world() {
  const { clock, database, kraken } = await rateLimitedKrakenWithRestingOrder(cleanup);
  // The kill gets one quick round (its own wait is not what is tested here). Its Kraken calls and the
  // bot's wait for the simulator's answer, which always comes: on the wall clock, a CI machine at load
  // 24 let the kill's first CancelAll (ccxt's import included) run past the 10 s call deadline, and
  // the kill reported that deadline, not Kraken's refusal. The database's deadline (3 s by default, on
  // the wall clock, with no clock to put it on) is given a minute: PostgreSQL answers here, and at that
  // load a halt write that took longer made the kill pending, with no follow-up to test.
  const killTime: KillTime = { ...realKillTime, within: (work) => work };
  const t = await liveContext(database, kraken, { KILL_CONFIRM_ATTEMPTS: '1', KILL_CONFIRM_WAIT: '1ms', KRAKEN_RATE_TIER: 'starter', KILL_DB_TIMEOUT: '60s' }, { clock, killTime });
  cleanup.push(() => t.ctx.close());
  const krakenCalls = () => kraken.sim.calls.filter((c) => c.api === 'private').length;
  const openAtKraken = () => [...kraken.sim.state.orders.values()].filter(isOpen).length;
  /** Another program's quick private reads with the same key, until Kraken refuses one: its counter is full. */
  const fillCounter = () => fillRateCounter(kraken.sim);
  /**
   * The kill's own refusal (recorded for every process using the key) is a try's room old, but a
   * program outside the bot, which records nothing, has filled the counter again: the bot's next try
   * goes, and Kraken refuses it.
   */
  const fullAgainUnrecorded = async () => {
    clock.advance(roomForMs('starter'));
    // On the database's clock too, which reads a refusal's age in whole seconds rounded down.
    await t.ctx.kill.counter.settled();
    await ageRecordedRefusals(database, roomForMs('starter') + 1_000);
    await fillCounter();
  };
  const cancelItem = async () => (await currentIncident(t.ctx))!.items.find((i) => i.item === 'cancel_orders')!;
  const request = async (id: number) => (await database.db.select().from(engineRequests).where(eq(engineRequests.id, id)))[0]!;
  /** The bot with the key: its kill feature's cancel_all runner, driven one poll at a time. */
  const bot = () => {
    const runner = startCancelAllRunner(t.ctx, { holder: 'bot-1:7', timer: false });
    cleanup.push(() => runner.stop());
    return runner;
  };
  return { clock, database, kraken, t, krakenCalls, openAtKraken, fillCounter, fullAgainUnrecorded, cancelItem, request, bot };
}

async function unconfirmedKill(w: Awaited<ReturnType<typeof world>>) {
  await w.fillCounter();
  const result = await executeKill(w.t.ctx, { actor: operator, reason: 'x', trigger: 'manual' });
  expect(result.ok).toBe(false);
  const kraken = result.cancel.venues.find((v) => v.venue === 'kraken')!;
  expect(kraken.confirmed).toBe(false);
  expect(kraken.errors.join('\n')).toContain('EAPI:Rate limit exceeded');
  const requestId = (result.followUp as { requestId: number }).requestId;
  expect(requestId).toEqual(expect.any(Number));
  // The kill's refusal is recorded for every process using the key after the kill has answered: the
  // bot's first look at the counter must find it (a CI run's bot looked first, and tried at once).
  await w.t.ctx.kill.counter.settled();
  return { result, requestId };
}

describe('a kill on a full Kraken rate counter', () => {
  it('the bot retries the cancel with backoff that lets the counter fall, pending in the database meanwhile, and ticks the item with what Kraken answered once it confirms', async () => {
    const w = await world();
    const { result, requestId } = await unconfirmedKill(w);
    expect(w.openAtKraken()).toBe(1);

    // The incident's Slack thread, kept in step by the bot's refresher.
    await w.database.db.update(incidents).set({ slackChannel: 'C0OPS', slackTs: '1.2' });
    const shownInThread: string[] = [];
    const notedInThread: string[] = [];
    const refreshThread = incidentThreadRefresher(w.t.ctx, {
      update: async (_incident, items) => void shownInThread.push(String(items.find((i) => i.item === 'cancel_orders')?.outcome?.['summary'])),
      note: async (_incident, item) => void notedInThread.push(`${item.item}: ${String(item.outcome?.['summary'])}`),
    });
    await refreshThread();
    expect(shownInThread).toHaveLength(1);

    // The bot takes the follow-up: the counter is full, so Kraken refuses its CancelAll (and it sends
    // no OpenOrders, which would be refused too). Not failed: pending, with its next try.
    await w.fullAgainUnrecorded();
    let runner = w.bot();
    const callsBefore = w.krakenCalls();
    expect(await runner.drain()).toBe(1);
    expect(w.krakenCalls() - callsBefore, 'calls of the first try').toBe(1);
    const wait = followUpRetryDelayMs('starter', 1);
    const retried = await w.request(requestId);
    expect(retried).toMatchObject({ status: 'pending', notBefore: expect.any(Date), error: null });
    // Its next try is the database's moment, named alike wherever it is said.
    const nextTryAt = retried.notBefore!;
    expect(retried.params['dueAt']).toBe(nextTryAt.toISOString());
    expect(retried.result).toMatchObject({ nextTryAt: nextTryAt.toISOString() });
    const pending = await w.cancelItem();
    expect(pending).toMatchObject({ state: 'pending', requestId, doneAt: null });
    const shown = renderChecklist((await currentIncident(w.t.ctx))!);
    expect(shown).toContain(`PENDING (request #${requestId}): Cancel pending — the bot retries until Kraken confirms, next try at ${nextTryAt.toISOString()}`);
    expect(shown).toContain('EAPI:Rate limit exceeded');
    // The thread's checklist shows the next try too.
    await refreshThread();
    expect(shownInThread.at(-1)).toMatch(new RegExp(`^Cancel pending — the bot retries until Kraken confirms, next try at ${nextTryAt.toISOString().replace(/\./g, '\\.')}`));

    // Before its next try the bot sends nothing to Kraken, however often it polls.
    w.clock.advance(wait - 1);
    expect(await runner.drain()).toBe(0);
    expect(w.krakenCalls() - callsBefore).toBe(1);

    // The bot restarts: the follow-up lives in the database, and the new process takes it when due,
    // by which time the counter has room for its CancelAll and OpenOrders.
    await runner.stop();
    runner = w.bot();
    w.clock.advance(1);
    await ageFollowUps(w.database, wait);
    // The bot's own refusal is as old on the database's clock (read in whole seconds, rounded down).
    await w.t.ctx.kill.counter.settled();
    await ageRecordedRefusals(w.database, wait + 1_000);
    expect(await runner.drain()).toBe(1);
    expect(w.openAtKraken(), 'orders open at Kraken').toBe(0);
    const item = await w.cancelItem();
    // The bot that confirmed it is the one named, not the operator who killed.
    expect(item, JSON.stringify(item.outcome)).toMatchObject({ state: 'done', doneBy: 'bot-1:7', requestId });
    expect(String(item.outcome?.['summary'])).toBe('Kraken: 1 cancelled, none open (confirmed).');
    expect(await w.request(requestId)).toMatchObject({ status: 'done' });
    expect(w.t.alerts.raised.at(-1)).toMatchObject({ severity: 'info', fingerprint: `kill:${result.incidentId}`, title: expect.stringMatching(/now confirmed/) });
    // And the incident's thread hears it, once.
    await refreshThread();
    await refreshThread();
    expect(notedInThread).toEqual(['cancel_orders: Kraken: 1 cancelled, none open (confirmed).']);
  }, 60_000);

  it('gives up loudly once its time is over while Kraken still refuses every try, and the item says orders may remain', async () => {
    const w = await world();
    const { requestId } = await unconfirmedKill(w);
    const runner = w.bot();
    let tries = 0;
    for (; tries < 40 && (await w.request(requestId)).status === 'pending'; tries++) {
      const row = await w.request(requestId);
      if (row.notBefore) {
        // Its give-up time is the database's: it passes as the bot's clock does.
        await passUntilDue(w.database, row.id, w.clock);
      }
      await w.fillCounter();
      await runner.drain();
    }
    const row = await w.request(requestId);
    expect(row.status).toBe('failed');
    expect(w.clock.now().getTime() - row.requestedAt.getTime()).toBeLessThanOrEqual(CANCEL_FOLLOW_UP_MS);
    const item = await w.cancelItem();
    expect(item).toMatchObject({ state: 'failed', requestId, doneAt: null });
    expect(String(item.outcome?.['summary'])).toMatch(/^Gave up after \d+ tries over 10 min: .*Orders may remain open on Kraken/);
    expect(w.t.alerts.raised.at(-1)).toMatchObject({ severity: 'critical', title: expect.stringMatching(/still not confirmed/) });
    expect(w.openAtKraken()).toBe(1);
    // Up to 40 tries, each filling Kraken's counter first: 56 s of the 60 it had at load 20.
  }, 180_000);

  it('a later kill joins the follow-up still open: one request, one try a round', async () => {
    const w = await world();
    const first = await unconfirmedKill(w);
    const runner = w.bot();
    await w.fullAgainUnrecorded();
    expect(await runner.drain()).toBe(1);
    // Its next try is due; meanwhile another kill, on a counter still full, hands the cancel on too.
    await passUntilDue(w.database, first.requestId, w.clock);
    const second = await unconfirmedKill(w);
    expect(second.result.alreadyKilled).toBe(true);
    expect(second.requestId, 'the later kill joins the open follow-up').toBe(first.requestId);
    expect(await w.cancelItem()).toMatchObject({ state: 'pending', requestId: first.requestId });
    await w.fullAgainUnrecorded();
    const calls = w.krakenCalls();
    expect(await runner.drain()).toBe(1);
    // One call only: the follow-up's CancelAll (refused).
    expect(w.krakenCalls() - calls).toBe(1);
    expect(await w.request(first.requestId)).toMatchObject({ status: 'pending', notBefore: expect.any(Date) });
    expect(await w.cancelItem()).toMatchObject({ state: 'pending', requestId: first.requestId });
  }, 60_000);
  it('a cancel again that Kraken refuses hands on a follow-up of its own (the earlier one withdrawn), which the bot confirms once the counter falls', async () => {
    const w = await world();
    const first = await unconfirmedKill(w);
    const runner = w.bot();
    expect(await runner.drain()).toBe(1);
    await w.fillCounter();
    const again = await doChecklistItem(w.t.ctx, { item: 'cancel_orders', actor: operator, confirmed: true });
    expect(again, again.summary).toMatchObject({ ok: false, state: 'pending', requestId: expect.any(Number) });
    expect(again.summary).toMatch(/^Cancel again NOT ALL CONFIRMED — kraken: .*EAPI:Rate limit exceeded.* The cancel goes on as request #\d+: no bot with the Kraken key is running now \(no engine running\); one that starts within 5 min picks it up/);
    expect(await w.request(first.requestId)).toMatchObject({ status: 'failed', error: expect.stringMatching(/superseded by a cancel again/) });
    expect(await w.cancelItem()).toMatchObject({ state: 'pending', requestId: again.requestId });
    // Seconds pass in real time before the bot takes it (as on a loaded machine): the database counts
    // them in the refusals' ages and the wait the bot sets, and so must the clock Kraken counts on.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    // The bot takes it at once (refused: the counter is still full), then once the counter has room.
    expect(await runner.drain()).toBe(1);
    expect(await w.request(again.requestId!)).toMatchObject({ status: 'pending' });
    await passUntilDue(w.database, again.requestId!, w.clock);
    expect(await runner.drain()).toBe(1);
    expect(w.openAtKraken()).toBe(0);
    const item = await w.cancelItem();
    expect(item, JSON.stringify(item.outcome)).toMatchObject({ state: 'done', requestId: again.requestId, doneBy: 'bot-1:7' });
    expect(String(item.outcome?.['summary'])).toBe('Kraken: 1 cancelled, none open (confirmed).');
  }, 60_000);
  it('a cancel again whose own follow-up cannot be written keeps the kill\'s one waiting (withdrawn only with the new one written) and says it goes on', async () => {
    const w = await world();
    const first = await unconfirmedKill(w);
    await w.fillCounter();
    // The database takes no new request (the write fails after the kill's one would have been withdrawn).
    await w.database.db.execute(sql.raw(`create or replace function killfix_refuse_request() returns trigger language plpgsql as $$ begin raise exception 'no new engine request'; end $$;
      create trigger killfix_refuse_request before insert on engine_requests for each row execute function killfix_refuse_request();`));
    cleanup.push(() => w.database.db.execute(sql.raw('drop trigger if exists killfix_refuse_request on engine_requests; drop function if exists killfix_refuse_request();')));
    const again = await doChecklistItem(w.t.ctx, { item: 'cancel_orders', actor: operator, confirmed: true });
    expect(again, again.summary).toMatchObject({ ok: false, state: 'pending', requestId: first.requestId });
    expect(again.summary).toMatch(new RegExp(`^Cancel again NOT ALL CONFIRMED — kraken: .* The cancel could not be handed on as a new request \\(.*no new engine request.*\\); request #${first.requestId}, which the item already waits on, goes on\\.`));
    expect(await w.request(first.requestId)).toMatchObject({ status: 'pending', error: null });
    expect(await w.cancelItem()).toMatchObject({ state: 'pending', requestId: first.requestId });
  }, 60_000);
  it('a follow-up the bot takes before its writer has pointed the cancel item at it still tries: only a later request or a done item supersedes', async () => {
    const w = await world();
    const first = await unconfirmedKill(w);
    // The kill's follow-up is over (its time ran out); the next one is written, not yet marked on the item.
    await w.database.db.update(engineRequests).set({ status: 'failed', finishedAt: w.clock.now(), error: 'gave up' }).where(eq(engineRequests.id, first.requestId));
    const written = await writeFollowUp(w.t.ctx, { incidentId: first.result.incidentId!, killId: first.result.killId, actor: operator.id, reason: 'x', startedAt: Date.now() });
    expect(written.joined).toBe(false);
    expect(await w.cancelItem()).toMatchObject({ requestId: first.requestId });
    const calls = w.krakenCalls();
    expect(await w.bot().drain()).toBe(1);
    // It is not stopped: it waits for the counter to have room for its try (the kill was refused
    // just now), sending nothing until then.
    expect(w.krakenCalls() - calls).toBe(0);
    expect(await w.request(written.requestId)).toMatchObject({ status: 'pending', notBefore: expect.any(Date) });
  }, 60_000);
});
