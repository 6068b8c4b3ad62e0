// Every outcome of a live change request — rejected, withdrawn, refused at the switch, switched to
// live — is told in the request's thread through the recorded, retried announcement, not a post made
// once: when Slack fails the reply at that moment, the trail says it is pending (with the error and
// when it is tried again), `ctb mode history` shows it, and the sweep posts it once Slack answers —
// once, with the request's marker — and records it delivered. The old code posted each of them once,
// logged the failure, and the record said nothing: the thread was never told.
// Through the real Slack notifier against the fake Slack, on real PostgreSQL.
import { asc, eq, sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { renderSignOff } from '../../../src/cli/commands/mode.js';
import { modeChangeEvents, type ModeChangeRequest } from '../../../src/db/schema/index.js';
import { getBotState } from '../../../src/services/bot-state.js';
import { expireOverdueRequests } from '../../../src/services/mode/expire-requests.js';
import { openLiveRequest } from '../../../src/services/mode/open-live-request.js';
import { modeHistory } from '../../../src/services/mode/sign-off.js';
import { switchToPaper } from '../../../src/services/mode/switch-to-paper.js';
import { createPostgresTestDb, type TestDatabase } from '../../support/db.js';
import { startFakeSlack, type FakeSlack } from '../../support/fake-slack.js';
import {
  APPROVER_B, APPROVER_C, modeHarness, OPERATOR, OPERATOR_APPROVER, resetModeTables, slackActor, type ModeHarness,
} from '../../support/mode-harness.js';

let database: TestDatabase;
let slack: FakeSlack;
let h: ModeHarness;
/** While true, Slack rate-limits every reply in a thread (Retry-After 1 s); the request message itself posts. */
let threadsLimited = false;

beforeAll(async () => {
  database = await createPostgresTestDb();
  slack = await startFakeSlack();
  slack.on('chat.postMessage', (body) => (threadsLimited && typeof body.thread_ts === 'string'
    ? { status: 429, headers: { 'retry-after': '1' }, body: { ok: false, error: 'ratelimited' } }
    : undefined));
});

afterAll(async () => {
  await slack.close();
  await database.close();
});

beforeEach(async () => {
  await resetModeTables(database.db);
  slack.calls.length = 0;
  slack.messages.length = 0;
  threadsLimited = false;
  h = await modeHarness({ database, slack });
});

afterEach(async () => {
  await h.ctx.close();
});

async function open(): Promise<ModeChangeRequest> {
  const result = await openLiveRequest(h.ctx, h.ctx.liveSwitch, { actor: slackActor(OPERATOR_APPROVER), reason: 'paper criteria met' });
  if (!result.opened) throw new Error(`request not opened: ${result.audit.summary}`);
  return result.request;
}

const trail = (id: number) => database.db.select().from(modeChangeEvents).where(eq(modeChangeEvents.requestId, id)).orderBy(asc(modeChangeEvents.id));

/** The replies in the request's thread that carry its announcement marker. */
const announcements = (request: ModeChangeRequest) =>
  slack.messages.filter((m) => m.threadTs === request.slackTs && m.metadata?.event_type === 'ctb_mode_announcement');

async function rendered(id: number): Promise<string> {
  const [record] = await modeHistory({ db: database.db }, { limit: 1, id });
  return renderSignOff(record!);
}

async function untilDatabaseReaches(at: string): Promise<void> {
  for (;;) {
    const [row] = (await database.db.execute(sql`select now() >= ${at}::timestamptz as due`)) as unknown as Array<{ due: boolean }>;
    if (row?.due) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/**
 * The outcome `closing` was recorded while Slack refused the thread's reply: pending in the trail and
 * the history, nothing in the thread; once Slack answers, the sweep delivers it once and records it.
 */
async function toldAfterTheOutage(request: ModeChangeRequest, closing: string, says: string): Promise<void> {
  const events = await trail(request.id);
  expect(events.slice(-3).map((e) => e.kind)).toEqual([closing, 'announcing', 'announce_pending']);
  const pending = events.at(-1)!;
  expect(pending.details).toMatchObject({ attempt: 1, retryAfterMs: 1_000 });
  expect(announcements(request)).toEqual([]);
  expect(await rendered(request.id)).toContain(`announcement: pending — 1 attempt, the last failed: `);
  // The request's alert went with the first attempt, Slack or not.
  expect(h.alerts.filter((a) => a.fingerprint === `mode-request-${request.id}`)).toHaveLength(1);

  threadsLimited = false;
  await untilDatabaseReaches(String(pending.details['retryAt']));
  await expireOverdueRequests(h.ctx, h.ctx.liveSwitch);
  expect((await trail(request.id)).slice(-2).map((e) => [e.kind, e.details['attempt']])).toEqual([['announcing', 2], ['announced', 2]]);
  const told = announcements(request);
  expect(told).toHaveLength(1);
  expect(told[0]!.text).toContain(says);
  expect(told[0]!.metadata?.event_payload).toEqual({ request_id: request.id });
  expect(await rendered(request.id)).toMatch(/announcement: delivered at \S+ \(2 attempts\)/);

  await expireOverdueRequests(h.ctx, h.ctx.liveSwitch);
  expect(announcements(request)).toHaveLength(1);
  expect(h.alerts.filter((a) => a.fingerprint === `mode-request-${request.id}`)).toHaveLength(1);
}

describe('the outcome of a request, Slack failing its reply', () => {
  it('rejected by an approver\'s reaction', async () => {
    const request = await open();
    threadsLimited = true;
    expect(await h.react(request, APPROVER_B, { emoji: h.ctx.config.REJECTION_EMOJI })).toMatchObject({ kind: 'rejected' });
    await toldAfterTheOutage(request, 'rejected', `Live change request #${request.id} rejected`);
  });

  it('withdrawn by a switch to paper', async () => {
    const request = await open();
    threadsLimited = true;
    const paper = await switchToPaper(h.ctx, h.ctx.liveSwitch, { actor: slackActor(OPERATOR), reason: 'not today' });
    expect(paper.withdrawn).toEqual([request.id]);
    await toldAfterTheOutage(request, 'withdrawn', `Live change request #${request.id} withdrawn`);
  });

  it('refused at the switch (the go-live audit fails)', async () => {
    const request = await open();
    expect(await h.react(request, APPROVER_B)).toMatchObject({ kind: 'counted', approvals: 1 });
    h.audit.verdict = 'fail';
    threadsLimited = true;
    expect(await h.react(request, APPROVER_C)).toMatchObject({ kind: 'quorum', switch: { switched: false, status: 'failed' } });
    await toldAfterTheOutage(request, 'failed', `Live change request #${request.id} failed`);
  });

  it('switched to live: the switch stands, and its result reaches the thread once Slack answers', async () => {
    const request = await open();
    expect(await h.react(request, APPROVER_B)).toMatchObject({ kind: 'counted', approvals: 1 });
    threadsLimited = true;
    expect(await h.react(request, APPROVER_C)).toMatchObject({ kind: 'quorum', switch: { switched: true } });
    expect((await getBotState(database.db)).mode).toBe('live');
    expect(h.alerts.find((a) => a.fingerprint === `mode-request-${request.id}`)?.details).toMatchObject({ approvedBy: [{ user: APPROVER_B }, { user: APPROVER_C }] });
    await toldAfterTheOutage(request, 'switched', `Switched to LIVE trading (request #${request.id})`);
    expect(announcements(request)[0]!.text).toContain(APPROVER_C);
  });
});
