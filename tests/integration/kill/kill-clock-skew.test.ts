// A kill's cancel handed to the bot from a shell whose clock is minutes off: the bot judges how long
// ago it was asked for on the database's clock (now()), never by comparing the shell's clock with its
// own, so a shell running 10 minutes slow neither has its cancel refused as "too long ago" nor its
// follow-up closed before a single try. Real PostgreSQL (two connection pools), the Kraken simulator,
// the bot on a clock that reads the real time, the shell on one 10 minutes behind it.
import { and, eq, sql } from 'drizzle-orm';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ManualClock } from '../../../src/clock.js';
import { CANCEL_ALL_STALE_MS } from '../../../src/domain/cancel-handover.js';
import { connectPostgres } from '../../../src/db/client.js';
import { engineRequests, incidentChecklistItems } from '../../../src/db/schema/index.js';
import { updateBotState } from '../../../src/services/bot-state.js';
import { enqueueEngineRequest } from '../../../src/services/engine-requests/store.js';
import { flattenHandler, startCancelAllRunner } from '../../../src/services/engine-requests/handlers.js';
import { followUpRetryDelayMs } from '../../../src/services/kill/cancel-follow-up.js';
import { writeFollowUp } from '../../../src/services/kill/follow-up-request.js';
import { currentIncident } from '../../../src/services/kill/incident.js';
import { executeKill } from '../../../src/services/kill/kill.js';
import { waitingOn } from '../../../src/services/kill/waiting-request.js';
import { isOpen } from '../../../src/simulator/types.js';
import { createPostgresTestDb } from '../../support/db.js';
import { engineContext } from '../../support/engine.js';
import { ageFollowUps, liveContext, passUntilDue, startLiveKraken } from '../../support/live-engine.js';
import { privateCall } from '../../support/simulator.js';

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!().catch(() => {});
});

const SKEW_MS = 10 * 60_000;

async function world(shellSkewMs = -SKEW_MS) {
  const database = await createPostgresTestDb();
  cleanup.push(() => database.close());
  const botClock = new ManualClock(new Date());
  const kraken = await startLiveKraken({ clock: botClock });
  cleanup.push(() => kraken.sim.close());
  const resting = await privateCall(kraken.sim, 'AddOrder', { pair: 'XBTUSD', type: 'buy', ordertype: 'limit', price: '30000', volume: '0.01' });
  expect(resting.body.error).toEqual([]);
  const bot = await liveContext(database, kraken, { KILL_CONFIRM_ATTEMPTS: '1', KILL_CONFIRM_WAIT: '1ms', KILL_DB_TIMEOUT: '30s' }, { clock: botClock });
  cleanup.push(() => bot.ctx.close());
  const shellDb = connectPostgres(database.url, { max: 2 });
  cleanup.push(() => shellDb.close());
  const shellClock = new ManualClock(new Date(Date.now() + shellSkewMs));
  const shell = await engineContext(shellDb, { KILL_DB_TIMEOUT: '30s' }, { clock: shellClock });
  cleanup.push(() => shell.ctx.close());
  expect(shell.ctx.exchanges.hasKrakenKeys()).toBe(false);
  const runner = startCancelAllRunner(bot.ctx, { holder: 'bot-1:7', timer: false });
  cleanup.push(() => runner.stop());
  const openAtKraken = () => [...kraken.sim.state.orders.values()].filter(isOpen).length;
  const request = async (id: number) => (await database.db.select().from(engineRequests).where(eq(engineRequests.id, id)))[0]!;
  const requests = () => database.db.select().from(engineRequests);
  return { database, kraken, bot, shell, runner, openAtKraken, request, requests };
}

describe('a kill from a shell whose clock runs 10 minutes slow', () => {
  it('has its handed-over cancel carried out by the bot, not refused as asked for too long ago', async () => {
    const w = await world();
    const row = await enqueueEngineRequest(w.shell.ctx.db, w.shell.ctx.clock, {
      kind: 'cancel_all', requestedBy: 'U0OPERATOR', params: { killId: 'k-skew', reason: 'x', killStartedAt: w.shell.ctx.clock.now().toISOString(), answerWithinMs: 5_000 },
    });
    expect(await w.runner.drain()).toBe(1);
    const done = await w.request(row.id);
    expect(done.error ?? '').not.toMatch(/too long ago/);
    expect(done, JSON.stringify(done.result)).toMatchObject({ status: 'done' });
    expect(w.openAtKraken(), 'orders open at Kraken').toBe(0);
  }, 60_000);

  it('has its follow-up tried by the bot at once, not closed as too old before its first try', async () => {
    const w = await world();
    await updateBotState(w.database.db, w.bot.clock, { halted: true, haltedReason: 'kill', haltedAt: w.bot.clock.now(), haltedBy: 'U0OPERATOR' });
    const { requestId } = await writeFollowUp(w.shell.ctx, { incidentId: null, killId: 'k-skew', actor: 'U0OPERATOR', reason: 'x', startedAt: w.shell.ctx.clock.now().getTime(), halt: true });
    expect(await w.runner.drain()).toBe(1);
    const done = await w.request(requestId);
    expect(String(done.result?.['summary'] ?? done.error)).not.toMatch(/too long ago/);
    expect(done, JSON.stringify(done.result)).toMatchObject({ status: 'done' });
    expect(w.openAtKraken(), 'orders open at Kraken').toBe(0);
  }, 60_000);
});

describe('an incident read from a shell whose clock runs 10 minutes fast', () => {
  it("leaves the bot's follow-up waiting for its next try pending, not closed as never taken", async () => {
    const w = await world(SKEW_MS);
    w.kraken.sim.state.systemStatus = 'maintenance';
    const kill = await executeKill(w.bot.ctx, { actor: { id: 'U0OPERATOR', source: 'slack' }, reason: 'x', trigger: 'manual' });
    expect(kill.followUp).toMatchObject({ requestId: expect.any(Number) });
    const requestId = (kill.followUp as { requestId: number }).requestId;
    // The bot's first try: Kraken still in maintenance, so the follow-up waits for its next try.
    expect(await w.runner.drain()).toBe(1);
    expect(await w.request(requestId)).toMatchObject({ status: 'pending', notBefore: expect.any(Date) });

    const view = await currentIncident(w.shell.ctx);
    expect(view!.items.find((i) => i.item === 'cancel_orders')).toMatchObject({ state: 'pending', requestId });
    expect(await w.request(requestId)).toMatchObject({ status: 'pending' });
  }, 60_000);
});

describe('a follow-up written by a shell whose clock runs 10 minutes fast', () => {
  it('gives up saying how long it was given on the database clock, not the span from the shell clock', async () => {
    const w = await world(SKEW_MS);
    const botClock = w.bot.ctx.clock as ManualClock;
    await updateBotState(w.database.db, botClock, { halted: true, haltedReason: 'kill', haltedAt: botClock.now(), haltedBy: 'U0OPERATOR' });
    w.kraken.sim.state.systemStatus = 'maintenance';
    const { requestId } = await writeFollowUp(w.shell.ctx, { incidentId: null, killId: 'k-skew', actor: 'U0OPERATOR', reason: 'x', startedAt: w.shell.ctx.clock.now().getTime(), halt: true });
    // Kraken stays in maintenance: the bot tries at each next try until its give-up time, which passes
    // on the database's clock as the bot's clock is moved.
    for (let round = 0; round < 60 && (await w.request(requestId)).status === 'pending'; round++) {
      const row = await w.request(requestId);
      if (row.notBefore) {
        await passUntilDue(w.database, row.id, botClock);
      }
      await w.runner.drain();
    }
    const row = await w.request(requestId);
    expect(row.status, JSON.stringify(row.result)).toBe('failed');
    // CANCEL_FOLLOW_UP_MS from its writing: not that less the shell's 10 minutes ahead.
    expect(String(row.result?.['summary'])).toMatch(/^Gave up after \d+ tries over 10 min: /);
    expect(w.openAtKraken()).toBe(1);
  }, 120_000);
});

describe('a bot whose clock runs 10 minutes slow retrying a follow-up no bot then takes', () => {
  it("is closed naming the next try's time on the database's clock, not the bot's not_before", async () => {
    const w = await world();
    const botClock = w.bot.ctx.clock as ManualClock;
    w.kraken.sim.state.systemStatus = 'maintenance';
    const kill = await executeKill(w.bot.ctx, { actor: { id: 'U0OPERATOR', source: 'slack' }, reason: 'x', trigger: 'manual' });
    const requestId = (kill.followUp as { requestId: number }).requestId;
    // The bot's first try, on its clock 10 minutes behind the database's: its not_before is too.
    botClock.set(new Date(Date.now() - SKEW_MS));
    expect(await w.runner.drain()).toBe(1);
    const retried = await w.request(requestId);
    expect(retried).toMatchObject({ status: 'pending', notBefore: expect.any(Date) });
    // No bot takes the next try for over 5 minutes of the database's clock.
    await ageFollowUps(w.database, CANCEL_ALL_STALE_MS + 60_000);
    const dueAt = String((await w.request(requestId)).params['dueAt']);
    expect(Math.abs(Date.parse(dueAt) - retried.notBefore!.getTime())).toBeGreaterThan(4 * 60_000);

    const view = await currentIncident(w.shell.ctx);
    expect(await w.request(requestId)).toMatchObject({ status: 'failed', error: `no bot with the Kraken key took its next try within 5 min of ${dueAt}` });
    expect(String(view!.items.find((i) => i.item === 'cancel_orders')!.outcome?.['summary'])).toContain(`within 5 min of ${dueAt} (request #${requestId})`);
  }, 60_000);
});

describe("a kill's follow-up written by a shell whose clock runs 10 minutes fast", () => {
  it("has the bot's answer told by the incident thread: nobody waits for it, whatever the shell's clock said", async () => {
    const w = await world(SKEW_MS);
    const kill = await executeKill(w.bot.ctx, { actor: { id: 'U0OPERATOR', source: 'slack' }, reason: 'x', trigger: 'manual' });
    expect(await w.requests()).toEqual([]);
    // A cancel again from the shell hands a follow-up on, the first one: written while the shell's process clock reads 10 minutes ahead.
    const realNow = Date.now.bind(Date);
    const skewed = vi.spyOn(Date, 'now').mockImplementation(() => realNow() + SKEW_MS);
    let requestId: number;
    try {
      ({ requestId } = await writeFollowUp(w.shell.ctx, { incidentId: kill.incidentId, killId: kill.killId, actor: 'U0OPERATOR', reason: 'x', startedAt: Date.now() }));
    } finally {
      skewed.mockRestore();
    }
    expect(await w.requests()).toHaveLength(1);
    await w.database.db.update(incidentChecklistItems).set({ state: 'pending', requestId, doneAt: null, doneBy: null })
      .where(and(eq(incidentChecklistItems.incidentId, kill.incidentId!), eq(incidentChecklistItems.item, 'cancel_orders')));
    expect(await w.runner.drain()).toBe(1);
    expect(await w.request(requestId)).toMatchObject({ status: 'done' });
    const [item] = await w.database.db.select().from(incidentChecklistItems)
      .where(and(eq(incidentChecklistItems.incidentId, kill.incidentId!), eq(incidentChecklistItems.item, 'cancel_orders')));
    expect(item, JSON.stringify(item!.outcome)).toMatchObject({ state: 'done', requestId, outcome: expect.objectContaining({ threadNote: true }) });
  }, 60_000);
});

describe('closing positions asked for from a shell whose clock runs 11 minutes slow', () => {
  it('is carried out by the engine, not refused as asked for more than 10 minutes ago', async () => {
    const w = await world(-11 * 60_000);
    const row = await enqueueEngineRequest(w.shell.ctx.db, w.shell.ctx.clock, { kind: 'flatten', requestedBy: 'U0OPERATOR', params: { actorSource: 'slack', waitMs: 5_000 } });
    const outcome = await flattenHandler(w.bot.ctx)(row);
    expect(outcome.summary).not.toMatch(/Not carried out/);
    expect(outcome).toMatchObject({ ok: true });
  }, 60_000);

  it('is still refused when the database says it was asked for more than 10 minutes ago', async () => {
    const w = await world();
    const row = await enqueueEngineRequest(w.shell.ctx.db, w.shell.ctx.clock, { kind: 'flatten', requestedBy: 'U0OPERATOR', params: { actorSource: 'slack', waitMs: 5_000 } });
    await w.database.db.update(engineRequests).set({ params: sql`jsonb_set(params, '{writtenAt}', to_jsonb(to_char((now() - interval '11 minutes') at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')))` }).where(eq(engineRequests.id, row.id));
    const aged = await w.request(row.id);
    const outcome = await flattenHandler(w.bot.ctx)(aged);
    expect(outcome).toMatchObject({ ok: false, summary: `Not carried out: requested at ${String(aged.params['writtenAt'])}, more than 10 minutes ago; ask again if positions should still be closed.` });
  }, 60_000);
});


describe("a follow-up a bot whose clock is 10 minutes off put back for its next try, taken on by a bot on the database's time", () => {
  /** The first try by a second bot (its own pool) on a clock `skewMs` off, Kraken in maintenance: the follow-up waits for its next try. */
  async function retriedBySkewedBot(skewMs: number) {
    const w = await world();
    w.kraken.sim.state.systemStatus = 'maintenance';
    const kill = await executeKill(w.bot.ctx, { actor: { id: 'U0OPERATOR', source: 'slack' }, reason: 'x', trigger: 'manual' });
    const requestId = (kill.followUp as { requestId: number }).requestId;
    const otherDb = connectPostgres(w.database.url, { max: 2 });
    cleanup.push(() => otherDb.close());
    const other = await liveContext(otherDb, w.kraken, { KILL_CONFIRM_ATTEMPTS: '1', KILL_CONFIRM_WAIT: '1ms', KILL_DB_TIMEOUT: '30s' }, { clock: new ManualClock(new Date(Date.now() + skewMs)) });
    cleanup.push(() => other.ctx.close());
    const otherRunner = startCancelAllRunner(other.ctx, { holder: 'bot-2:9', timer: false });
    cleanup.push(() => otherRunner.stop());
    expect(await otherRunner.drain()).toBe(1);
    const row = await w.request(requestId);
    expect(row, JSON.stringify(row.result)).toMatchObject({ status: 'pending', notBefore: expect.any(Date) });
    // One moment, the database's, wherever it is said: not_before, params.dueAt, the try's summary and
    // nextTryAt, and what a reader of the incident is told.
    const nextTryAt = row.notBefore!.toISOString();
    expect(row.params['dueAt']).toBe(nextTryAt);
    expect(row.result).toMatchObject({ nextTryAt, summary: expect.stringContaining(`next try at ${nextTryAt} `) });
    expect((await waitingOn({ db: w.shell.ctx.db }, requestId))?.retried).toEqual({ tries: 1, nextTryAt });
    expect(Math.abs(row.notBefore!.getTime() - Date.now()), 'its next try, seconds from the database\'s now').toBeLessThan(60_000);
    return { w, requestId };
  }

  /** The wait of a first retry passes (and a second more), on the database's clock and the bot's alike. */
  async function waitOutRetry(w: Awaited<ReturnType<typeof world>>) {
    const ms = followUpRetryDelayMs('starter', 1) + 1_000;
    await ageFollowUps(w.database, ms);
    (w.bot.ctx.clock as ManualClock).advance(ms);
  }

  it('fast: the other bot takes its next try when due on the database clock, not 10 minutes later', async () => {
    const { w, requestId } = await retriedBySkewedBot(SKEW_MS);
    w.kraken.sim.state.systemStatus = 'online';
    await waitOutRetry(w);
    expect(await w.runner.drain()).toBe(1);
    expect(await w.request(requestId)).toMatchObject({ status: 'done' });
    expect(w.openAtKraken(), 'orders open at Kraken').toBe(0);
  }, 60_000);

  it('slow: the other bot does not take its next try before its wait is over', async () => {
    const { w, requestId } = await retriedBySkewedBot(-SKEW_MS);
    w.kraken.sim.state.systemStatus = 'online';
    expect(await w.runner.drain()).toBe(0);
    expect(await w.request(requestId)).toMatchObject({ status: 'pending' });
    await waitOutRetry(w);
    expect(await w.runner.drain()).toBe(1);
    expect(await w.request(requestId)).toMatchObject({ status: 'done' });
  }, 60_000);
});
