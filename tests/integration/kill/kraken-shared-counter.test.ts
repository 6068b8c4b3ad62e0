// Kraken's REST call counter is one per API key, filled by every process using the key, while each
// process counts only its own calls. Two processes here share one database, one Kraken key and one
// clock: the bot's worker (A), whose ordinary reads Kraken refuses for the rate limit, and another
// (B: a shell's kill, or the bot's follow-up of a kill). A's refusal is recorded in the database, and
// B's pacing starts from it: B waits for room instead of sending a call Kraken would refuse. Real
// PostgreSQL (and PGlite for the record itself), the Kraken simulator with its Starter counter on,
// the project's Kraken adapter.
import { eq } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/clock.js';
import { engineRequests } from '../../../src/db/schema/index.js';
import { lastRateLimitRefusal, recordRateLimitRefusal } from '../../../src/db/queries/kraken-rate-counter.js';
import { PRIVATE_COUNTER } from '../../../src/exchange/kraken/rate-limiter.js';
import { startCancelAllRunner } from '../../../src/services/engine-requests/handlers.js';
import { executeKill } from '../../../src/services/kill/kill.js';
import { roomForMs } from '../../../src/services/kill/kraken-room.js';
import { isOpen } from '../../../src/simulator/types.js';
import { createPgliteTestDb, createPostgresTestDb } from '../../support/db.js';
import { ageFollowUps, liveContext, passUntilDue, rateLimitedKrakenWithRestingOrder, startLiveKraken } from '../../support/live-engine.js';
import { fillRateCounter } from '../../support/simulator.js';

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!().catch(() => {});
});

const operator = { id: 'U0OPERATOR', source: 'slack' as const };
const RATE_LIMITED = /EAPI:Rate limit exceeded/;

/** `aSkewMs`: how far A's clock is ahead of the one B and Kraken run on (negative: behind). */
async function world(env: Record<string, string> = {}, opts: { aSkewMs?: number } = {}) {
  const { clock, database, kraken } = await rateLimitedKrakenWithRestingOrder(cleanup);
  const slept: number[] = [];
  const killTime = { now: () => clock.now().getTime(), sleep: async (ms: number) => void (slept.push(ms), clock.advance(ms)) };
  const settings = { KRAKEN_RATE_TIER: 'starter', KILL_CONFIRM_ATTEMPTS: '3', KILL_CONFIRM_WAIT: '20s', ...env };
  const aClock = opts.aSkewMs ? new ManualClock(new Date(clock.now().getTime() + opts.aSkewMs)) : clock;
  const a = await liveContext(database, kraken, settings, { clock: aClock, killTime, role: 'worker' });
  cleanup.push(() => a.ctx.close());
  const b = await liveContext(database, kraken, settings, { clock, killTime });
  cleanup.push(() => b.ctx.close());
  const privateCalls = () => kraken.sim.calls.filter((c) => c.api === 'private').map((c) => c.endpoint);
  const openAtKraken = () => [...kraken.sim.state.orders.values()].filter(isOpen).length;
  /** A's ordinary reads through its own Kraken adapter, until Kraken refuses one for the rate limit (recorded). */
  const refuseA = async () => {
    for (let i = 0; i < 20; i++) {
      const err = await a.ctx.exchanges.kraken().fetchOpenOrders().then(() => null, (e: unknown) => e);
      if (err) {
        expect(String(err)).toMatch(RATE_LIMITED);
        await a.ctx.kill.counter.settled();
        return;
      }
    }
    throw new Error('A was never refused');
  };
  return { clock, database, kraken, a, b, slept, privateCalls, openAtKraken, refuseA };
}

describe("Kraken's rate counter, shared by the processes using the key", () => {
  it("B's kill starts its cancel after the wait for orders on their way from A's refusal: it waits for room instead of being refused", async () => {
    const w = await world();
    await w.refuseA();
    // Room for B's first round (its CancelAll goes at once whatever the record says), not for two.
    w.clock.advance(Math.ceil((2 / PRIVATE_COUNTER.starter.decayPerSecond) * 1000) + 50);
    const before = w.privateCalls().length;
    w.slept.length = 0;
    const result = await executeKill(w.b.ctx, { actor: operator, reason: 'x', trigger: 'manual' });
    const kraken = result.cancel.venues.find((v) => v.venue === 'kraken')!;
    // Without the record B knew nothing of the counter, and its cancel after the fence went at once: refused.
    expect(kraken.errors, JSON.stringify(kraken)).toEqual([]);
    expect(w.privateCalls().slice(before)).toEqual(['CancelAll', 'OpenOrders', 'CancelAll', 'OpenOrders']);
    expect(w.slept).toHaveLength(1);
    expect(w.slept[0]).toBeGreaterThan(5_000);
    expect(result.ok).toBe(true);
    expect(kraken).toMatchObject({ confirmed: true, attempts: 2, canceled: 1 });
    expect(w.openAtKraken()).toBe(0);
  }, 60_000);

  it("A's clock an hour behind (or ahead of) B's: B's kill still waits for room after A's refusal, the record's age being the database's", async () => {
    for (const aSkewMs of [-3_600_000, 3_600_000]) {
      const w = await world({}, { aSkewMs });
      await w.refuseA();
      // Room for B's first round, not for two (as above); on A's clock the refusal was an hour off.
      w.clock.advance(Math.ceil((2 / PRIVATE_COUNTER.starter.decayPerSecond) * 1000) + 50);
      const before = w.privateCalls().length;
      w.slept.length = 0;
      const result = await executeKill(w.b.ctx, { actor: operator, reason: 'x', trigger: 'manual' });
      const kraken = result.cancel.venues.find((v) => v.venue === 'kraken')!;
      expect(kraken.errors, `A's clock ${aSkewMs} ms off: ${JSON.stringify(kraken)}`).toEqual([]);
      expect(w.privateCalls().slice(before)).toEqual(['CancelAll', 'OpenOrders', 'CancelAll', 'OpenOrders']);
      expect(w.slept).toHaveLength(1);
      expect(w.slept[0]).toBeGreaterThan(5_000);
      expect(result.ok).toBe(true);
      while (cleanup.length) await cleanup.pop()!().catch(() => {});
    }
  }, 60_000);

  it("the bot's follow-up of a kill waits for room after A's refusal instead of sending a try Kraken refuses, and confirms once the counter has room", async () => {
    const w = await world({ KILL_CONFIRM_ATTEMPTS: '1', KILL_CONFIRM_WAIT: '1ms' });
    // A kill on a counter another program filled: unconfirmed, handed on to the bot as a follow-up.
    await fillRateCounter(w.kraken.sim);
    const killed = await executeKill(w.b.ctx, { actor: operator, reason: 'x', trigger: 'manual' });
    expect(killed.ok).toBe(false);
    const requestId = (killed.followUp as { requestId: number }).requestId;
    expect(requestId).toEqual(expect.any(Number));
    // Long after the kill's own refusal, A's reads fill the counter again and Kraken refuses one.
    w.clock.advance(roomForMs('starter'));
    await w.refuseA();
    const runner = startCancelAllRunner(w.b.ctx, { holder: 'bot-1:7', timer: false });
    cleanup.push(() => runner.stop());
    const calls = w.privateCalls().length;
    expect(await runner.drain()).toBe(1);
    expect(w.privateCalls().slice(calls), 'calls of the postponed try').toEqual([]);
    const [row] = await w.database.db.select().from(engineRequests).where(eq(engineRequests.id, requestId));
    expect(row).toMatchObject({ status: 'pending', notBefore: expect.any(Date) });
    // Named as the database holds it: the moment it is due on that clock.
    const nextTryAt = row!.notBefore!;
    expect(String(row!.result?.['summary'])).toMatch(new RegExp(`^Cancel pending — the bot retries until Kraken confirms, next try at ${nextTryAt.toISOString().replace(/\./g, '\\.')}: Kraken refused a call for the API key's rate limit`));
    expect(row!.result).toMatchObject({ postponed: true });
    expect(row!.result?.['tries']).toBeUndefined();
    // Once the counter has room the try goes, and confirms.
    w.clock.advance(roomForMs('starter'));
    await ageFollowUps(w.database, roomForMs('starter'));
    expect(await runner.drain()).toBe(1);
    expect(w.privateCalls().slice(calls)).toEqual(['CancelAll', 'OpenOrders']);
    const [done] = await w.database.db.select().from(engineRequests).where(eq(engineRequests.id, requestId));
    expect(done).toMatchObject({ status: 'done' });
    expect(w.openAtKraken()).toBe(0);
  }, 60_000);

  it('a postponed try is postponed once only: the next goes whatever the record says', async () => {
    const w = await world({ KILL_CONFIRM_ATTEMPTS: '1', KILL_CONFIRM_WAIT: '1ms' });
    await fillRateCounter(w.kraken.sim);
    const killed = await executeKill(w.b.ctx, { actor: operator, reason: 'x', trigger: 'manual' });
    const requestId = (killed.followUp as { requestId: number }).requestId;
    const runner = startCancelAllRunner(w.b.ctx, { holder: 'bot-1:7', timer: false });
    cleanup.push(() => runner.stop());
    expect(await runner.drain()).toBe(1);
    const [postponed] = await w.database.db.select().from(engineRequests).where(eq(engineRequests.id, requestId));
    expect(postponed!.result).toMatchObject({ postponed: true });
    // At its next try another refusal is on record, just now: the try goes all the same.
    await passUntilDue(w.database, requestId, w.clock);
    await w.refuseA();
    const calls = w.privateCalls().length;
    expect(await runner.drain()).toBe(1);
    expect(w.privateCalls().slice(calls)).toEqual(['CancelAll']);
    const [tried] = await w.database.db.select().from(engineRequests).where(eq(engineRequests.id, requestId));
    expect(tried).toMatchObject({ status: 'pending' });
    expect(tried!.result).toMatchObject({ tries: 1 });
    expect(tried!.result?.['postponed']).toBeUndefined();
  }, 60_000);

  it('the record keeps the latest refusal per key and process, on PGlite as on PostgreSQL', async () => {
    for (const database of [await createPgliteTestDb(), await createPostgresTestDb()]) {
      cleanup.push(() => database.close());
      // Ages as the writers measured them (seconds before their write), whatever their clocks say.
      await recordRateLimitRefusal(database.db, { keyId: 'k1', process: 'h:1:worker', agoMs: 20_000, call: 'Balance' });
      // An older refusal written late never replaces a newer one.
      await recordRateLimitRefusal(database.db, { keyId: 'k1', process: 'h:1:worker', agoMs: 25_000, call: 'OpenOrders' });
      await recordRateLimitRefusal(database.db, { keyId: 'k1', process: 'h:2:ctb', agoMs: 22_000, call: 'CancelAll' });
      await recordRateLimitRefusal(database.db, { keyId: 'k2', process: 'h:2:ctb', agoMs: 0, call: 'CancelAll' });
      const latest = await lastRateLimitRefusal(database.db, 'k1');
      expect(latest).toMatchObject({ keyId: 'k1', process: 'h:1:worker', call: 'Balance' });
      // Its age is the database's: 20 s, plus the moments these statements took.
      expect(latest!.ageMs).toBeGreaterThanOrEqual(20_000);
      expect(latest!.ageMs).toBeLessThan(30_000);
      expect(await lastRateLimitRefusal(database.db, 'k3')).toBeNull();
    }
  }, 60_000);
});
