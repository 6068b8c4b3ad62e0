// A kill (and a halt's cancel) while Kraken's REST call counter for the key is full: Kraken refuses
// the first CancelAll with `EAPI:Rate limit exceeded`. The kill's own confirmation rounds then wait
// for the counter to make room for a round (CancelAll + OpenOrders) instead of sending one every
// 0.2–1 s — each refused call keeps the counter full for everyone using the key — within the kill's
// deadline, and confirm once the counter has room. Other failures keep the usual pace. Real
// PostgreSQL, the Kraken simulator with its Starter counter on, the project's Kraken adapter; the
// kill's pauses move one manual clock that the simulator's counter decays on.
import { afterEach, describe, expect, it } from 'vitest';
import { renderKill } from '../../../src/cli/render/kill.js';
import { renderKillReply } from '../../../src/slack/views/kill.js';
import { createKrakenExchange } from '../../../src/exchange/kraken/create.js';
import { cancelAllDirect } from '../../../src/exchange/kraken/direct-cancel-all.js';
import { PRIVATE_COUNTER } from '../../../src/exchange/kraken/rate-limiter.js';
import type { Exchange } from '../../../src/exchange/types.js';
import { silentLogger } from '../../../src/logger.js';
import { withEarlyCancel } from '../../../src/services/kill/early-cancel.js';
import { cancelOnHalt } from '../../../src/services/kill/halt-cancel.js';
import { executeKill } from '../../../src/services/kill/kill.js';
import { doChecklistItem } from '../../../src/services/kill/incident.js';
import type { KillTime } from '../../../src/services/kill/runtime.js';
import { engineRequests } from '../../../src/db/schema/index.js';
import { startCancelAllRunner } from '../../../src/services/engine-requests/handlers.js';
import { enqueueEngineRequest } from '../../../src/services/engine-requests/store.js';
import { isOpen } from '../../../src/simulator/types.js';
import { liveContext, rateLimitedKrakenWithRestingOrder, startLiveKraken } from '../../support/live-engine.js';
import { privateCall, fillRateCounter } from '../../support/simulator.js';

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!().catch(() => {});
});

const operator = { id: 'U0OPERATOR', source: 'slack' as const };

/** The Starter counter's time to fall by one round's two calls (CancelAll, OpenOrders). */
const ROOM_FOR_A_ROUND_MS = Math.ceil((2 / PRIVATE_COUNTER.starter.decayPerSecond) * 1000);

async function world(env: Record<string, string> = {}, exchanges: { kraken?: () => Exchange } = {}) {
  const { clock, database, kraken } = await rateLimitedKrakenWithRestingOrder(cleanup);
  // The kill's own clock: each pause moves the manual clock, so Kraken's counter falls by it. The
  // simulator answers every call, and no call moves this clock, so on it no call's deadline passes:
  // a machine stalled for seconds cannot make a call miss its deadline and add a round.
  const slept: number[] = [];
  const killTime: KillTime = {
    now: () => clock.now().getTime(),
    sleep: async (ms: number) => void (slept.push(ms), clock.advance(ms)),
    within: (work) => work,
  };
  const t = await liveContext(database, kraken, { KRAKEN_RATE_TIER: 'starter', KILL_CONFIRM_ATTEMPTS: '3', KILL_CONFIRM_WAIT: '20s', ...env }, { clock, killTime, exchanges });
  cleanup.push(() => t.ctx.close());
  const privateCalls = () => kraken.sim.calls.filter((c) => c.api === 'private').map((c) => c.endpoint);
  const openAtKraken = () => [...kraken.sim.state.orders.values()].filter(isOpen).length;
  /** Another program's quick private reads with the same key, until Kraken refuses one: its counter is full. */
  const fillCounter = () => fillRateCounter(kraken.sim);
  /** What Kraken received while `work` ran, the kill's pauses, and how far its clock (not the wall's) moved. */
  const during = async <T>(work: () => Promise<T>) => {
    const before = privateCalls().length;
    const startedAt = clock.now().getTime();
    slept.length = 0;
    const result = await work();
    return { result, calls: privateCalls().slice(before), slept: [...slept], tookMs: clock.now().getTime() - startedAt };
  };
  return { clock, kraken, t, openAtKraken, fillCounter, during };
}

describe("a kill's confirmation rounds on a full Kraken rate counter", () => {
  it('send a handful of calls instead of one round every 0.2–1 s, waiting for the counter to make room, and confirm before the deadline', async () => {
    const w = await world();
    await w.fillCounter();
    const { result, calls, slept, tookMs } = await w.during(() => executeKill(w.t.ctx, { actor: operator, reason: 'x', trigger: 'manual' }));
    // The first CancelAll goes out at once and is refused; the next round waits for room for its two
    // calls; the cancel after the wait for orders on their way waits for room again.
    expect(calls).toEqual(['CancelAll', 'CancelAll', 'OpenOrders', 'CancelAll', 'OpenOrders']);
    expect(slept).toEqual([ROOM_FOR_A_ROUND_MS, ROOM_FOR_A_ROUND_MS]);
    // Confirmed within KILL_CONFIRM_WAIT (20 s) on the kill's clock.
    expect(tookMs).toBeLessThanOrEqual(20_000);
    expect(w.openAtKraken()).toBe(0);
    const kraken = result.cancel.venues.find((v) => v.venue === 'kraken')!;
    expect(result.ok, JSON.stringify(kraken)).toBe(true);
    // The tries are the rounds Kraken was sent: two by the first cancel, one after the fence.
    expect(kraken).toMatchObject({ confirmed: true, attempts: 3, canceled: 1, survivors: [] });
    expect(kraken.errors).toEqual([expect.stringMatching(/^cancel-all \(attempt 1\): .*EAPI:Rate limit exceeded/)]);
  }, 60_000);

  it('send no round that could not go before the deadline, and the reply says how many tries were sent and why they stopped', async () => {
    const w = await world({ KILL_CONFIRM_WAIT: '5s' });
    await w.fillCounter();
    const { result, calls, slept, tookMs } = await w.during(() => executeKill(w.t.ctx, { actor: operator, reason: 'x', trigger: 'manual' }));
    // Room for a round comes only after the 5 s deadline: the first CancelAll is all Kraken received.
    expect(calls).toEqual(['CancelAll']);
    expect(slept).toEqual([]);
    expect(tookMs).toBe(0);
    expect(result.ok).toBe(false);
    const kraken = result.cancel.venues.find((v) => v.venue === 'kraken')!;
    expect(kraken).toMatchObject({ confirmed: false, attempts: 1, canceled: null });
    expect(kraken.errors.at(-1)).toBe(
      `no further try sent: Kraken refused a call for the API key's rate limit (EAPI:Rate limit exceeded), and its call counter has room for another try (CancelAll + OpenOrders) only in ${(ROOM_FOR_A_ROUND_MS / 1000).toFixed(1)} s, past the confirmation deadline (KILL_CONFIRM_WAIT)`);
    expect(renderKill(result)).toContain('kraken: cancel failed, NOT CONFIRMED after 1 try — no further try sent: Kraken refused a call');
    expect(JSON.stringify(renderKillReply(result).blocks)).toContain('could not confirm zero open orders after 1 try — no further try sent');
    expect(renderKill(result) + JSON.stringify(renderKillReply(result))).not.toMatch(/1 tries|attempt\(s\)/);
    // The bot's follow-up takes the cancel on from here.
    expect(result.followUp).toMatchObject({ requestId: expect.any(Number) });
    expect(w.openAtKraken()).toBe(1);
  }, 60_000);

  it("a shell's early CancelAll (sent before ccxt loads) that Kraken refused for the rate limit is its first try, not sent again at once", async () => {
    let early: Exchange | undefined;
    const w = await world({}, { kraken: () => early! });
    await w.fillCounter();
    const config = w.t.ctx.config;
    const { result, calls, slept } = await w.during(() => {
      early = withEarlyCancel(createKrakenExchange(config, { logger: silentLogger(), armed: false, clock: w.clock }), () => cancelAllDirect(config));
      return executeKill(w.t.ctx, { actor: operator, reason: 'x', trigger: 'manual' });
    });
    expect(calls).toEqual(['CancelAll', 'CancelAll', 'OpenOrders', 'CancelAll', 'OpenOrders']);
    expect(slept).toEqual([ROOM_FOR_A_ROUND_MS, ROOM_FOR_A_ROUND_MS]);
    const kraken = result.cancel.venues.find((v) => v.venue === 'kraken')!;
    expect(kraken).toMatchObject({ confirmed: true, attempts: 3, canceled: 1 });
    expect(kraken.errors).toEqual(['cancel-all (attempt 1): rate_limited: Kraken CancelAll failed: EAPI:Rate limit exceeded.']);
    expect(result.ok).toBe(true);
  }, 60_000);

  it("a halt's cancel waits for room the same way and confirms", async () => {
    const w = await world();
    await w.fillCounter();
    const { result, calls, slept } = await w.during(() => cancelOnHalt(w.t.ctx, 'halted by another process'));
    expect(calls).toEqual(['CancelAll', 'CancelAll', 'OpenOrders']);
    expect(slept).toEqual([ROOM_FOR_A_ROUND_MS]);
    expect(result).toMatchObject({ confirmed: true, attempts: 2, canceled: 1 });
    expect(w.openAtKraken()).toBe(0);
  }, 60_000);

  it("an incident's cancel again waits for room the same way and confirms", async () => {
    const w = await world();
    expect((await executeKill(w.t.ctx, { actor: operator, reason: 'x', trigger: 'manual' })).ok).toBe(true);
    // An order appears after the kill confirmed (placed by hand with the key); another program fills the counter.
    expect((await privateCall(w.kraken.sim, 'AddOrder', { pair: 'XBTUSD', type: 'buy', ordertype: 'limit', price: '30000', volume: '0.01' })).body.error).toEqual([]);
    await w.fillCounter();
    const { result, calls, slept } = await w.during(() => doChecklistItem(w.t.ctx, { item: 'cancel_orders', actor: operator, confirmed: true }));
    expect(calls).toEqual(['CancelAll', 'CancelAll', 'OpenOrders']);
    expect(slept).toEqual([ROOM_FOR_A_ROUND_MS]);
    expect(result, result.summary).toMatchObject({ ok: true, state: 'done' });
    expect(w.openAtKraken()).toBe(0);
  }, 60_000);

  it("a cancel handed over by a process without the key sends no round into the full counter, and its answer says why it stopped", async () => {
    const w = await world();
    await w.fillCounter();
    await enqueueEngineRequest(w.t.ctx.db, w.clock, { kind: 'cancel_all', requestedBy: operator.id, params: { killId: 'k-1', reason: 'x', killStartedAt: new Date().toISOString() } });
    const runner = startCancelAllRunner(w.t.ctx, { holder: 'bot-1:7', timer: false });
    cleanup.push(() => runner.stop());
    const { calls, slept } = await w.during(() => runner.drain());
    expect(calls).toEqual(['CancelAll']);
    expect(slept).toEqual([]);
    const [request] = await w.t.ctx.db.select().from(engineRequests);
    const report = request!.result?.['report'] as { confirmed: boolean; attempts: number; errors: string[] };
    expect(report).toMatchObject({ confirmed: false, attempts: 1 });
    expect(report.errors.at(-1)).toBe(
      `no further try sent: Kraken refused a call for the API key's rate limit (EAPI:Rate limit exceeded), and its call counter has room for another try (CancelAll + OpenOrders) only in ${(ROOM_FOR_A_ROUND_MS / 1000).toFixed(1)} s`);
    expect(w.openAtKraken()).toBe(1);
  }, 60_000);

  it("a cancel handed over after another call was refused paces from the shared counter: it waits for room within the kill's wait, then confirms", async () => {
    const w = await world();
    // The bot's own reads fill the counter and Kraken refuses one: recorded for every process using the key.
    let refused: unknown = null;
    for (let i = 0; i < 20 && !refused; i++) refused = await w.t.ctx.exchanges.kraken().fetchOpenOrders().then(() => null, (e: unknown) => e);
    expect(String(refused)).toMatch(/EAPI:Rate limit exceeded/);
    await w.t.ctx.kill.counter.settled();
    // A kill in a process without the key hands its cancel over and waits 10 s for the answer.
    await enqueueEngineRequest(w.t.ctx.db, w.clock, {
      kind: 'cancel_all', requestedBy: operator.id, params: { killId: 'k-1', reason: 'x', killStartedAt: new Date().toISOString(), answerWithinMs: 10_000 },
    });
    const runner = startCancelAllRunner(w.t.ctx, { holder: 'bot-1:7', timer: false });
    cleanup.push(() => runner.stop());
    const { calls, slept } = await w.during(() => runner.drain());
    // Without the record its first CancelAll went into the full counter and was refused.
    expect(calls).toEqual(['CancelAll', 'OpenOrders']);
    expect(slept).toEqual([ROOM_FOR_A_ROUND_MS]);
    const [request] = await w.t.ctx.db.select().from(engineRequests);
    expect(request).toMatchObject({ status: 'done' });
    expect(request!.result?.['report']).toMatchObject({ confirmed: true, attempts: 1, errors: [] });
    expect(w.openAtKraken()).toBe(0);
  }, 60_000);

  it("a cancel handed over sends no round that could not answer before the kill stops waiting, and says so", async () => {
    const w = await world();
    let refused: unknown = null;
    for (let i = 0; i < 20 && !refused; i++) refused = await w.t.ctx.exchanges.kraken().fetchOpenOrders().then(() => null, (e: unknown) => e);
    await w.t.ctx.kill.counter.settled();
    // The kill waits 3 s more: the counter has room for a round only in 6 s.
    await enqueueEngineRequest(w.t.ctx.db, w.clock, {
      kind: 'cancel_all', requestedBy: operator.id, params: { killId: 'k-1', reason: 'x', killStartedAt: new Date().toISOString(), answerWithinMs: 3_000 },
    });
    const runner = startCancelAllRunner(w.t.ctx, { holder: 'bot-1:7', timer: false });
    cleanup.push(() => runner.stop());
    const { calls, slept } = await w.during(() => runner.drain());
    expect(calls).toEqual([]);
    expect(slept).toEqual([]);
    const [request] = await w.t.ctx.db.select().from(engineRequests);
    const report = request!.result?.['report'] as { confirmed: boolean; attempts: number; errors: string[] };
    expect(report).toMatchObject({ confirmed: false, attempts: 0 });
    expect(report.errors.at(-1)).toBe(
      `no further try sent: Kraken refused a call for the API key's rate limit (EAPI:Rate limit exceeded), and its call counter has room for another try (CancelAll + OpenOrders) only in ${(ROOM_FOR_A_ROUND_MS / 1000).toFixed(1)} s, past the time the kill waits for this answer (KILL_HANDOFF_TIMEOUT)`);
    // Nothing was sent, and the answer does not say a cancel failed.
    expect(String(request!.result?.['summary'])).toMatch(/^Kraken: no cancel sent, zero open orders NOT confirmed after 0 tries \(no further try sent: /);
    expect(w.openAtKraken()).toBe(1);
  }, 60_000);

  it('other failures (a 5xx) keep the usual pace between rounds', async () => {
    const w = await world();
    w.kraken.sim.faults.add({ endpoint: 'CancelAll', kind: 'http_5xx', times: 2 });
    const { result, calls, slept } = await w.during(() => cancelOnHalt(w.t.ctx, 'halted by another process'));
    expect(calls).toEqual(['CancelAll', 'OpenOrders', 'CancelAll', 'OpenOrders', 'CancelAll', 'OpenOrders']);
    expect(slept).toEqual([200, 400]);
    expect(result).toMatchObject({ confirmed: true, attempts: 3, canceled: 1 });
  }, 60_000);
});
