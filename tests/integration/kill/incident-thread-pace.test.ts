// The incident's checklist message is updated by one process at a time and only when what it says
// changes: two processes (two contexts on one database, each with its own Slack notifier) poll the
// incident every 500 ms after a keyless kill whose cancel waits in the database, while the engine
// they name keeps renewing its lease, so "heartbeat Ns ago" in the waiting text cycles 0–4 s. Slack
// is the local fake; chat.update calls are counted. The clock is injected (both contexts' manual
// clocks moved together); the lease's age is written into the database, whose clock it is read by.
import { sql } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { notifiedIncidentThread } from '../../../src/app/notifier-ports.js';
import { acquireLease } from '../../../src/db/queries/engine-lease.js';
import { incidents } from '../../../src/db/schema/index.js';
import { AGE_REFRESH_MS, MIN_UPDATE_GAP_MS } from '../../../src/domain/incident-thread-pace.js';
import { claimEngineRequest } from '../../../src/services/engine-requests/store.js';
import { finishChecklistRequest } from '../../../src/services/kill/checklist-records.js';
import { incidentThreadRefresher } from '../../../src/services/kill/incident-thread.js';
import { executeKill } from '../../../src/services/kill/kill.js';
import { startFakeSlack, type FakeSlack, type SlackCall } from '../../support/fake-slack.js';
import { killTestContext, useKillTestDb } from '../../support/kill-context.js';
import { recordLiveOrderEver } from '../../support/live-order-ever.js';

const kill = useKillTestDb(['incident_checklist_items', 'incidents', 'bot_state', 'audit_runs', 'order_intents', 'engine_requests', 'engine_lease']);
const operator = { id: 'U0OPERATOR', source: 'slack' as const };
/** The engine runs without the Kraken key, so the kill's cancel waits and its text names the engine with its heartbeat's age. */
const keylessEngine = { holderId: 'worker-2', host: 'worker-2', pid: 77, role: 'worker', feed: 'kraken', armed: false, hasKrakenKeys: false };
const POLL_MS = 500;

let fake: FakeSlack | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

/** Two processes on one database and one fake Slack, after a keyless kill whose cancel waits in the database. */
async function afterKill() {
  fake = await startFakeSlack();
  const env = {
    SLACK_BOT_TOKEN: 'xoxb-1111-2222-testtokenvalue', SLACK_SIGNING_SECRET: 'test-signing-secret-0123456789abcdef', SLACK_API_URL: fake.url,
    SLACK_OPS_CHANNEL: 'C0OPS', KILL_HANDOFF_TIMEOUT: '10s',
  };
  const a = await killTestContext({ database: kill.db(), env });
  kill.track(a.ctx);
  const b = await killTestContext({ database: kill.db(), env });
  kill.track(b.ctx);
  const db = kill.db().db;
  await acquireLease(db, keylessEngine, 15_000);
  await recordLiveOrderEver(db);
  const result = await executeKill(a.ctx, { actor: operator, reason: 'fills look wrong', trigger: 'manual' });
  expect(result).toMatchObject({ krakenAccess: 'queued' });
  const requestId = (result.followUp as { requestId: number }).requestId;
  // Its thread is posted (the announce claim's part, tested elsewhere).
  await db.update(incidents).set({ slackChannel: 'C0OPS', slackTs: '1700000000.000100' });

  const refreshers = [a, b].map((p) => incidentThreadRefresher(p.ctx, notifiedIncidentThread(p.ctx)!));
  const updates = () => fake!.callsTo('chat.update');
  /** One poll of both processes, POLL_MS later, the engine's heartbeat `ageMs` old (its clock is the database's). */
  const poll = async (ageMs: number) => {
    for (const p of [a, b]) p.clock.advance(POLL_MS);
    await db.execute(sql`update engine_lease set heartbeat_at = now() - ${ageMs}::int * interval '1 millisecond'`);
    const failures: unknown[] = [];
    for (const refresh of refreshers) await refresh().catch((err: unknown) => failures.push(err));
    return failures;
  };
  /** The engine renews every 5 s, so the age cycles (a quarter second off a whole second: the rounding never depends on a poll's speed). */
  const pollFor = async (ms: number) => {
    for (let t = 0; t < ms; t += POLL_MS) await poll(250 + (t % 5_000));
  };
  return { a, db, requestId, updates, poll, pollFor };
}

const blocks = (call: SlackCall) => JSON.stringify(call.body.blocks);

describe('the incident thread across processes', () => {
  it('sends each update once, with the waiting cancel\'s age refreshed at most once a minute, while a material change shows at once', async () => {
    const { a, db, requestId, updates, poll, pollFor } = await afterKill();
    const windowMs = 70_000;
    await pollFor(windowMs);
    const waiting = updates();
    expect(blocks(waiting[0]!)).toMatch(/queued in the database for a bot with the Kraken key .*worker-2:77 .*heartbeat \ds ago/);
    // The first update at once, then the age alone at most once a minute: not one per change of age per process.
    expect(waiting.length, `${waiting.length} chat.update calls in ${windowMs / 1000} s`).toBeLessThanOrEqual(1 + Math.floor(windowMs / AGE_REFRESH_MS));
    const payloads = waiting.map((c) => JSON.stringify([c.body.text, c.body.blocks]));
    expect(new Set(payloads).size, 'the same payload sent twice').toBe(payloads.length);

    // A bot with the key takes the cancel: shown on the next poll, by one process.
    const before = updates().length;
    const taken = await claimEngineRequest(db, 'bot-1:7', ['cancel_all']);
    expect(taken?.id).toBe(requestId);
    await poll(1_250);
    expect(updates().length).toBe(before + 1);
    expect(blocks(updates().at(-1)!)).toContain(`taken by bot-1:7 (request #${requestId})`);

    // Kraken confirmed half a second later (well inside any gap): shown at once too, once.
    await finishChecklistRequest(a.ctx, taken!, { ok: true, summary: 'Kraken: 1 cancelled, none open (confirmed).' });
    await poll(1_750);
    expect(updates().length).toBe(before + 2);
    expect(blocks(updates().at(-1)!)).toContain('Kraken: 1 cancelled, none open (confirmed).');
    await pollFor(10_000);
    expect(updates().length).toBe(before + 2);
  }, 120_000);

  it('an update Slack refuses is tried again by one process, not before the gap, and then shown', async () => {
    const { updates, poll } = await afterKill();
    let refuse = true;
    fake!.on('chat.update', (body) => (refuse ? { body: { ok: false, error: 'ratelimited' } } : { body: { ok: true, channel: body.channel, ts: body.ts } }));
    expect(await poll(250)).toHaveLength(1);
    expect(updates()).toHaveLength(1);
    // Neither process sends it again before the gap is over, however often they poll.
    for (let t = POLL_MS; t < MIN_UPDATE_GAP_MS; t += POLL_MS) expect(await poll(250)).toEqual([]);
    expect(updates()).toHaveLength(1);
    refuse = false;
    expect(await poll(250)).toEqual([]);
    expect(updates()).toHaveLength(2);
    for (let t = 0; t < 5 * MIN_UPDATE_GAP_MS; t += POLL_MS) await poll(250);
    expect(updates()).toHaveLength(2);
  }, 60_000);
});
