// A kill against a Kraken that does not answer at all (its process stopped): the kill's answer comes
// within KILL_CONFIRM_WAIT plus one call's deadline — no call of it runs past that, whatever rounds
// KILL_CONFIRM_ATTEMPTS would still have it make — says NOT CONFIRMED, hands the cancel on (a
// follow-up request for the bot with the key), and tells the operator who waits, line by line, which
// call did not answer; from a shell, the process exits once it has answered (the calls it gave up on
// are abandoned, not waited for until their own timeouts). Its calls' deadlines and pauses run on a
// clock of the test's own: a call that has not answered after a few turns of the event loop (the
// recording exchange answers at once when it answers at all) has its deadline pass on that clock, so
// the bound is read there, not on the wall.
import { and, eq } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { renderKill } from '../../../src/cli/render/kill.js';
import { botState, engineRequests, incidentChecklistItems } from '../../../src/db/schema/index.js';
import { KILL_CALL_TIMEOUT_MS } from '../../../src/services/kill/cancel-everywhere.js';
import { DeadlineError } from '../../../src/services/kill/deadline.js';
import { executeKill } from '../../../src/services/kill/kill.js';
import type { KillTime } from '../../../src/services/kill/runtime.js';
import { ctbChildInShell } from '../../support/ctb-shell.js';
import { killTestContext, recordingDatabase, useKillTestDb } from '../../support/kill-context.js';
import { TEST_API_KEY, TEST_API_SECRET } from '../../support/kraken-test-keys.js';
import { liveKillWorld } from '../../support/kill-world.js';
import { openOrder } from '../../support/recording-exchange.js';

const kill = useKillTestDb(['incident_checklist_items', 'incidents', 'bot_state', 'audit_runs', 'order_intents', 'engine_requests', 'engine_lease']);
const operator = { id: 'U0OPERATOR', source: 'cli' as const };

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!().catch(() => {});
});

/**
 * How long after its answer a `ctb kill` may take to exit: ample for closing the database on a loaded
 * machine, far below the 30 s a call given up on would otherwise keep the process waiting.
 */
const EXIT_AFTER_ANSWER_BOUND_MS = 5_000;

/** Turns of the event loop: an answer already on its way has settled by then. */
const turns = async (n: number) => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};

/** The kill's clock: pauses and missed call deadlines move it; `now()` is where the kill's time stands. */
function testKillTime() {
  let now = 0;
  const time: KillTime = {
    now: () => now,
    sleep: async (ms) => void (now += ms),
    within: async <T>(work: Promise<T>, ms: number, what: string): Promise<T> => {
      const settled = await Promise.race([work.then(() => true, () => true), turns(5).then(() => false)]);
      if (settled) return work;
      work.catch(() => {});
      now += ms;
      throw new DeadlineError(what, ms);
    },
  };
  return { time, now: () => now };
}

describe('a kill against a Kraken that does not answer', () => {
  it('answers within KILL_CONFIRM_WAIT plus one call\'s deadline, NOT CONFIRMED, with the follow-up queued and a line for each call that did not answer', async () => {
    const clock = testKillTime();
    const events: string[] = [];
    const database = kill.track(recordingDatabase(kill.db().url, events));
    const waitMs = 5_000;
    const t = await killTestContext({ database, events, armed: true, killTime: clock.time, env: { KILL_CONFIRM_WAIT: `${waitMs}ms`, KILL_CONFIRM_ATTEMPTS: '3' } });
    kill.track(t.ctx);
    const progress: string[] = [];
    t.ctx.kill.onProgress = (line) => progress.push(line);
    t.kraken.open.push(openOrder('K1'));
    t.kraken.mode = 'hang';

    const result = await executeKill(t.ctx, { actor: operator, reason: 'kraken stopped', trigger: 'manual' });

    // Kraken's part of the answer ended by KILL_CONFIRM_WAIT plus one call's deadline, on the kill's clock.
    expect(clock.now()).toBeLessThanOrEqual(waitMs + KILL_CALL_TIMEOUT_MS);
    // One CancelAll (its deadline passed at 10 s, past KILL_CONFIRM_WAIT), one OpenOrders cut short at
    // 15 s; no third call, though KILL_CONFIRM_ATTEMPTS asked for three rounds, twice.
    expect(t.kraken.calls.filter((c) => c === 'cancelAllOrders' || c === 'fetchOpenOrders')).toEqual(['cancelAllOrders', 'fetchOpenOrders']);
    const venue = result.cancel.venues.find((v) => v.venue === 'kraken')!;
    expect(venue).toMatchObject({ confirmed: false, attempts: 1 });
    expect(result.ok).toBe(false);
    const text = renderKill(result);
    expect(text).toContain('OPEN ORDERS MAY REMAIN: NOT ALL CONFIRMED CANCELLED');
    expect(text).toMatch(/^ {2}kraken: no cancel answered, NOT CONFIRMED after 1 try — no further try sent: the kill's answer is due/m);

    // The cancel is not dropped: a follow-up request for the bot with the key, and the item pending on it.
    const requestId = result.followUp && 'requestId' in result.followUp ? result.followUp.requestId : NaN;
    const [request] = await kill.db().db.select().from(engineRequests).where(eq(engineRequests.id, requestId));
    expect(request).toMatchObject({ kind: 'cancel_all', status: 'pending' });
    const [item] = await kill.db().db.select().from(incidentChecklistItems)
      .where(and(eq(incidentChecklistItems.incidentId, result.incidentId!), eq(incidentChecklistItems.item, 'cancel_orders')));
    expect(item).toMatchObject({ state: 'pending', requestId });

    // The operator saw why the wait went on, a line at each call that missed its deadline, then the outcome.
    expect(progress).toEqual([
      'kraken: CancelAll (try 1) did not answer within 10 s.',
      'kraken: OpenOrders (try 1) did not answer within 5 s.',
      "kraken: no further try sent: the kill's answer is due (KILL_CONFIRM_WAIT plus one call's deadline of 10 s has passed).",
      // Said after the request is written, naming it: no engine runs here, so it waits for a bot with the key.
      `Zero open orders not confirmed: answering NOT CONFIRMED; pending: request #${requestId} waits for a bot with the Kraken key to go on cancelling; until Kraken confirms none open, orders may remain.`,
    ]);
  }, 60_000);

  it('ctb kill from a shell with the key: a line for each call that did not answer, NOT CONFIRMED, exit 1, the follow-up queued, no further round sent — and the prompt back once it has answered', async () => {
    const { database, kraken } = await liveKillWorld(cleanup);
    // Kraken stopped: its cancel and its open-orders list answer nothing (let go before it closes).
    const releases = [kraken.hold('CancelAll'), kraken.hold('OpenOrders')];
    cleanup.push(async () => releases.forEach((release) => release()));

    // A call's own timeout (KRAKEN_REQUEST_TIMEOUT) far past the bound below: a shell that waited for
    // the calls its kill gave up on would still be running when the bound is reached. The kill gives
    // each call KILL_CALL_TIMEOUT (2 s here, 10 s by default) before it gives it up.
    const shell = ctbChildInShell(['kill', '--reason', 'kraken stopped'], {
      DATABASE_URL: database.url, KRAKEN_API_KEY: TEST_API_KEY, KRAKEN_API_SECRET: TEST_API_SECRET, KRAKEN_API_URL: kraken.url,
      KILL_CONFIRM_WAIT: '1s', KILL_CALL_TIMEOUT: '2s', KRAKEN_REQUEST_TIMEOUT: '30s',
    });
    cleanup.push(async () => void shell.child.kill('SIGKILL'));
    await shell.stdoutLine(/^KILLED — OPEN ORDERS MAY REMAIN/);
    // The bound is the verdict: once the answer is printed the prompt comes back within it (generous
    // for a loaded machine); a shell still waiting for Kraken is killed at the bound (signal SIGKILL).
    const bound = setTimeout(() => shell.child.kill('SIGKILL'), EXIT_AFTER_ANSWER_BOUND_MS);
    const exit = await shell.exited.finally(() => clearTimeout(bound));
    const run = { ...exit, stdout: shell.stdout(), stderr: shell.stderr() };
    const why = `exit ${run.code} (${run.signal})\n${run.stdout}\n${run.stderr.slice(-3000)}`;
    expect(run.signal, why).toBeNull();
    expect(run.code, why).toBe(1);
    expect(run.stdout, why).toContain('OPEN ORDERS MAY REMAIN: NOT ALL CONFIRMED CANCELLED');
    expect(run.stdout, why).toMatch(/^ {2}kraken: no cancel answered, NOT CONFIRMED after 1 try/m);
    // Printed in full before the exit: the answer's last line, and the follow-up's notice.
    expect(run.stdout, why).toMatch(/^Tick each item when done: ctb incident done <item>/m);
    // The call was given up at the KILL_CALL_TIMEOUT set (or sooner, the bound reached), not at the 10 s default.
    expect(run.stderr, why).toMatch(/^kraken: CancelAll \(try 1\) did not answer within (2|1(\.\d)?|0\.\d) s\.$/m);
    // Said once the follow-up is written, naming it (no bot runs here: it waits for one with the key).
    expect(run.stderr, why).toMatch(/^Zero open orders not confirmed: answering NOT CONFIRMED; pending: request #\d+ waits for a bot with the Kraken key to go on cancelling/m);
    // One round, its calls cut short once KILL_CONFIRM_WAIT plus one call's deadline had passed: the
    // early CancelAll, the same cancel sent again once it had no answer, one OpenOrders — no second round.
    expect(kraken.callsTo('CancelAll').length, why).toBeLessThanOrEqual(2);
    expect(kraken.callsTo('OpenOrders').length, why).toBeLessThanOrEqual(1);
    // Written before the exit: the halt and the follow-up request for the bot with the key.
    const requests = await database.db.select().from(engineRequests).where(eq(engineRequests.kind, 'cancel_all'));
    expect(requests.map((r) => r.status), why).toEqual(['pending']);
    const [state] = await database.db.select().from(botState);
    expect(state, why).toMatchObject({ halted: true, mode: 'paper' });
  }, 90_000);
});
