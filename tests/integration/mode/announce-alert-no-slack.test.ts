// The outcome of a live change request raises its alert when it is closed, whatever process closes it:
// `ctb mode paper` typed in a shell that has no Slack token withdraws the open request, and its alert is
// in the outbox when the command returns — the thread's reply stays pending for a process that can post
// in Slack, whose sweep then tells the thread once and stores no second alert. The old code stored the
// alert only with the reply's first claim, which a process that cannot post never makes: the alert
// waited for a Slack-capable sweep, and was never raised without one.
// A real `ctb` child process (dist/, no Slack variables) and the bot's real context (the outbox sink,
// the real Slack notifier against the fake Slack) on real PostgreSQL.
import { WebClient } from '@slack/web-api';
import { asc, eq, sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { execute } from '../../../src/db/client.js';
import { modeChangeEvents, modeChangeRequests } from '../../../src/db/schema/index.js';
import { expireOverdueRequests } from '../../../src/services/mode/expire-requests.js';
import { openLiveRequest } from '../../../src/services/mode/open-live-request.js';
import { createPostgresTestDb, type TestDatabase } from '../../support/db.js';
import { ctbInShell } from '../../support/ctb-shell.js';
import { startFakeSlack, type FakeSlack } from '../../support/fake-slack.js';
import { modeHarness, OPERATOR, OPERATOR_APPROVER, OPS, resetModeTables, slackActor, type ModeHarness } from '../../support/mode-harness.js';

let database: TestDatabase;
let slack: FakeSlack;
let h: ModeHarness;

beforeAll(async () => {
  database = await createPostgresTestDb();
  slack = await startFakeSlack();
});

afterAll(async () => {
  await slack.close();
  await database.close();
});

beforeEach(async () => {
  await resetModeTables(database.db);
  // Request ids start again at 1: so would their alerts' fingerprints.
  await database.db.execute(sql`truncate alert_events, alert_groups, alert_deliveries restart identity cascade`);
  slack.calls.length = 0;
  slack.messages.length = 0;
  h = await modeHarness({ database, slack, outbox: true });
});

afterEach(async () => {
  await h.ctx.close();
});

/** The alerts stored in the outbox under `fingerprint`. */
const stored = (fingerprint: string) => execute<{ title: string }>(database.db, sql`select e.title from alert_events e
  join alert_groups g on g.id = e.group_id where g.fingerprint = ${fingerprint} order by e.id`);

const kinds = async (id: number) => (await database.db.select().from(modeChangeEvents).where(eq(modeChangeEvents.requestId, id)).orderBy(asc(modeChangeEvents.id))).map((e) => e.kind);

describe('the alert of a request closed by a process that cannot post in Slack', () => {
  it('is in the outbox when `ctb mode paper` returns, and stays one after a Slack-capable sweep tells the thread', async () => {
    const opened = await openLiveRequest(h.ctx, h.ctx.liveSwitch, { actor: slackActor(OPERATOR_APPROVER), reason: 'paper criteria met' });
    if (!opened.opened) throw new Error(`request not opened: ${opened.audit.summary}`);
    const request = opened.request;
    const fingerprint = `mode-request-${request.id}`;

    const run = await ctbInShell(['mode', 'paper', '--json', '--reason', 'not today'], { DATABASE_URL: database.url });
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ ok: true, withdrawnRequests: [request.id] });

    const alerts = await stored(fingerprint);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.title).toContain(`Live change request #${request.id} withdrawn`);
    // The thread's reply is left to a process that can post: never claimed by the shell.
    expect(await kinds(request.id)).toEqual(expect.arrayContaining(['withdrawn', 'outcome_alerted']));
    expect(await kinds(request.id)).not.toContain('announcing');
    expect(slack.messages.filter((m) => m.threadTs === request.slackTs)).toEqual([]);

    await expireOverdueRequests(h.ctx, h.ctx.liveSwitch);
    expect((await kinds(request.id)).slice(-2)).toEqual(['announcing', 'announced']);
    const replies = slack.messages.filter((m) => m.threadTs === request.slackTs && m.metadata?.event_type === 'ctb_mode_announcement');
    expect(replies).toHaveLength(1);
    expect(replies[0]!.text).toContain(`Live change request #${request.id} withdrawn`);
    expect(await stored(fingerprint)).toHaveLength(1);

    await expireOverdueRequests(h.ctx, h.ctx.liveSwitch);
    expect(await stored(fingerprint)).toHaveLength(1);
  });
});

/**
 * A request older code withdrew (its announcement pending, no `outcome_alerted`), posted in the ops
 * channel, and the trail that code left after it (`after`: its claims and what became of them).
 */
async function closedByOlderCode(after: Array<{ kind: 'announcing' | 'announce_pending'; details: Record<string, unknown> }>): Promise<number> {
  const posted = await new WebClient('xoxb-0000-test-not-a-real-token', { slackApiUrl: slack.url, retryConfig: { retries: 0 } })
    .chat.postMessage({ channel: OPS, text: 'Live change request: switch to LIVE trading' });
  const [request] = await database.db.insert(modeChangeRequests).values({
    requester: OPERATOR, requesterSource: 'slack', fromMode: 'paper', toMode: 'live', slackChannel: OPS, slackTs: posted.ts!, status: 'withdrawn',
    createdAt: sql`now() - interval '5 minutes'`, expiresAt: sql`now() + interval '25 minutes'`, decidedAt: sql`now() - interval '1 minute'`,
    decidedBy: OPERATOR, outcome: 'withdrawn by its requester',
  }).returning();
  const id = request!.id;
  await database.db.insert(modeChangeEvents).values([
    { requestId: id, at: sql`now() - interval '1 minute'`, kind: 'withdrawn', actor: OPERATOR, details: { announce: 'pending' } },
    ...after.map((e) => ({ requestId: id, at: sql`now() - interval '30 seconds'`, kind: e.kind, actor: 'system', details: e.details })),
  ]);
  return id;
}

describe('requests closed by older code, their alert not stored with the closing', () => {
  it('gets its alert once from the first claim, and none again after', async () => {
    const id = await closedByOlderCode([]);
    await expireOverdueRequests(h.ctx, h.ctx.liveSwitch);
    expect((await kinds(id)).slice(1)).toEqual(['outcome_alerted', 'announcing', 'announced']);
    expect(await stored(`mode-request-${id}`)).toHaveLength(1);
    await expireOverdueRequests(h.ctx, h.ctx.liveSwitch);
    expect(await stored(`mode-request-${id}`)).toHaveLength(1);
  });

  it('whose first claim older code made (and stored the alert with it) gets no second alert from a retry', async () => {
    const retryAt = (await execute<{ at: string }>(database.db, sql`select (now() - interval '1 second')::text as at`))[0]!.at;
    const id = await closedByOlderCode([
      { kind: 'announcing', details: { attempt: 1 } },
      { kind: 'announce_pending', details: { attempt: 1, error: 'ratelimited', retryAt: new Date(retryAt).toISOString() } },
    ]);
    await expireOverdueRequests(h.ctx, h.ctx.liveSwitch);
    expect((await kinds(id)).slice(1)).toEqual(['announcing', 'announce_pending', 'announcing', 'announced']);
    expect(await stored(`mode-request-${id}`)).toEqual([]);
  });
});
