// "Cancel again" (`ctb incident done cancel_orders`, the checklist's button) against a Kraken that has
// stopped answering: it answers within KILL_CONFIRM_WAIT plus one call's deadline, as the kill does —
// no call sent after that, a call under way given up there — tells a line for each call that missed
// its deadline (printed by the terminal that runs it), and hands what it could not confirm to the bot
// with the key (a follow-up request), never ticking it done. Against the fake Kraken, real
// PostgreSQL, the cancel's deadlines on a clock of the test's own (tests/support/held-kraken.ts).
import { and, eq } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../../../src/cli/program.js';
import { engineRequests, incidentChecklistItems } from '../../../src/db/schema/index.js';
import { KILL_CALL_TIMEOUT_MS } from '../../../src/services/kill/cancel-everywhere.js';
import { doChecklistItem } from '../../../src/services/kill/incident.js';
import { executeKill } from '../../../src/services/kill/kill.js';
import { recordingIo } from '../../support/cli-io.js';
import { HELD_KRAKEN_WAIT_MS as WAIT_MS, heldKrakenWorld, sentTo, until } from '../../support/held-kraken.js';
import { useKillTestDb, whileTableLocked } from '../../support/kill-context.js';
import { TEST_API_KEY, TEST_API_SECRET } from '../../support/kraken-test-keys.js';

const kill = useKillTestDb(['incident_checklist_items', 'incidents', 'bot_state', 'audit_runs', 'order_intents', 'engine_requests', 'engine_lease']);

const operator = { id: 'U0OPERATOR', source: 'cli' as const };

const cleanup: Array<() => Promise<unknown> | void> = [];
afterEach(async () => {
  while (cleanup.length) await Promise.resolve(cleanup.pop()!()).catch(() => {});
});
const world = (env: Record<string, string> = {}) => heldKrakenWorld(kill, cleanup, env);

describe('cancel again against a Kraken that does not answer', () => {
  it('answers within KILL_CONFIRM_WAIT plus one call\'s deadline, NOT ALL CONFIRMED, pending on a follow-up request, with a line for each call that did not answer', async () => {
    const w = await world();
    const killed = await executeKill(w.ctx, { actor: operator, reason: 'incident', trigger: 'manual' });
    expect(killed.ok).toBe(true);
    w.stopKraken();
    const progress: string[] = [];
    w.ctx.kill.onProgress = (line) => progress.push(line);
    const start = w.clock.now();
    const before = sentTo(w.kraken).length;

    const result = await doChecklistItem(w.ctx, { item: 'cancel_orders', actor: operator, confirmed: true });

    // Kraken's part of the answer ended by KILL_CONFIRM_WAIT plus one call's deadline, on the cancel's clock:
    // one CancelAll (its deadline passed at 10 s), one OpenOrders cut short at 15 s, no further round.
    expect(w.clock.now() - start).toBeLessThanOrEqual(WAIT_MS + KILL_CALL_TIMEOUT_MS);
    expect(sentTo(w.kraken).slice(before)).toEqual(['CancelAll', 'OpenOrders']);
    expect(progress).toEqual([
      'kraken: CancelAll (try 1) did not answer within 10 s.',
      'kraken: OpenOrders (try 1) did not answer within 5 s.',
      "kraken: no further try sent: the cancel again's answer is due (KILL_CONFIRM_WAIT plus one call's deadline of 10 s has passed).",
    ]);
    // Who takes the cancel is said once, in the answer, from the request as written — not guessed before it.
    expect(result.summary).toMatch(/The cancel goes on as request #\d+: no bot with the Kraken key is running now/);
    // Never done on what was not confirmed: pending on a follow-up for the bot with the key.
    expect(result).toMatchObject({ ok: false, state: 'pending' });
    expect(result.summary).toMatch(/^Cancel again NOT ALL CONFIRMED — kraken: NOT CONFIRMED, open orders not counted \(no further try sent: the cancel again's answer is due/);
    expect(result.summary).toContain(`The cancel goes on as request #${result.requestId}`);
    const [request] = await kill.db().db.select().from(engineRequests).where(eq(engineRequests.id, result.requestId!));
    expect(request).toMatchObject({ kind: 'cancel_all', status: 'pending' });
    const [item] = await kill.db().db.select().from(incidentChecklistItems)
      .where(and(eq(incidentChecklistItems.incidentId, result.incidentId), eq(incidentChecklistItems.item, 'cancel_orders')));
    expect(item).toMatchObject({ state: 'pending', requestId: result.requestId, doneAt: null });
  }, 30_000);
});

describe('ctb incident done cancel_orders while a venue does not answer', () => {
  it('prints a line on stderr for each call that missed its deadline, as ctb kill does', async () => {
    const w = await world();
    const killed = await executeKill(w.ctx, { actor: operator, reason: 'incident', trigger: 'manual' });
    expect(killed.incidentId).not.toBeNull();
    const io = recordingIo({
      DATABASE_URL: kill.db().url, KRAKEN_API_KEY: TEST_API_KEY, KRAKEN_API_SECRET: TEST_API_SECRET, KRAKEN_API_URL: w.kraken.url, KRAKEN_RATE_LIMIT: 'false',
      // The paper venue lives in the database: its calls get the database's deadline, short here, and its table is held locked.
      KILL_DB_TIMEOUT: '300ms', KILL_CONFIRM_WAIT: '1ms', KILL_CONFIRM_ATTEMPTS: '1',
    });

    // The lock is let go once the answer is printed: the stalled paper queries then end, and so does the command.
    let run!: Promise<number>;
    await whileTableLocked(kill.db().url, 'paper_orders', async () => {
      let done = false;
      run = runCli(['incident', 'done', 'cancel_orders'], io).finally(() => void (done = true));
      await until(() => done || io.out().length > 0);
    });
    const code = await run;

    const why = `exit ${code}\n${io.out()}\n${io.err()}`;
    expect(code, why).toBe(1);
    expect(io.err(), why).toMatch(/^paper: CancelAll \(try 1\) did not answer within 0\.3 s\.$/m);
    expect(io.out(), why).toContain('NOT ALL CONFIRMED');
  }, 30_000);
});
