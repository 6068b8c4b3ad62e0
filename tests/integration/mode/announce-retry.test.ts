// A request the expiry sweep closed is announced in its Slack thread until Slack has it, and the
// record says what happened: a failed post (Slack down, rate limited) stays pending with its failure
// and attempt recorded and is tried again — after Slack's Retry-After on a 429 — until delivered; a
// refusal no retry can change (the bot not in the channel) is recorded failed, logged at error and
// raised as an alert, and not tried again; an announcer that stopped after Slack took the reply and
// before recording it is taken over by one that finds the reply in the thread and records it, never
// posting it twice; two replicas on one database post it once. The old announcer recorded every
// attempt as announced, delivered or not, and posted again on a takeover.
// Through the real Slack notifier against the fake Slack, on real PostgreSQL.
import { WebClient } from '@slack/web-api';
import { asc, eq, sql } from 'drizzle-orm';
import pino from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AlertInput, AlertSink } from '../../../src/alerts/types.js';
import { defaultLiveSwitchPorts } from '../../../src/app/live-switch-ports.js';
import { renderSignOff } from '../../../src/cli/commands/mode.js';
import { modeChangeEvents, modeChangeRequests } from '../../../src/db/schema/index.js';
import { ANNOUNCE_CLAIM_STALE_MS, type AnnounceRetry } from '../../../src/services/mode/announce-pending.js';
import { expireOverdueRequests } from '../../../src/services/mode/expire-requests.js';
import type { LiveSwitchPorts } from '../../../src/services/mode/ports.js';
import { modeHistory } from '../../../src/services/mode/sign-off.js';
import { slackNotifier } from '../../../src/slack/notifier.js';
import { alertConfig } from '../../support/alert-fixtures.js';
import { lineChild } from '../../support/children.js';
import { createPostgresTestDb, type TestDatabase } from '../../support/db.js';
import { startFakeSlack, type FakeSlack, type SlackAnswer } from '../../support/fake-slack.js';
import { resetModeTables } from '../../support/mode-harness.js';

const OPS = 'C0OPSANNC';

let database: TestDatabase;
let fake: FakeSlack;
beforeAll(async () => {
  database = await createPostgresTestDb();
  fake = await startFakeSlack();
});
afterAll(async () => {
  await fake?.close();
  await database?.close();
});

interface World {
  ctx: { db: TestDatabase['db']; logger: pino.Logger; alerts: AlertSink; announceRetry?: AnnounceRetry };
  ports: LiveSwitchPorts;
  alerts: AlertInput[];
  logs: Array<{ level: number; msg: string } & Record<string, unknown>>;
  requestId: number;
  threadTs: string;
}

let answerThreadPost: (body: Record<string, unknown>) => SlackAnswer | undefined | Promise<SlackAnswer | undefined>;

beforeEach(async () => {
  await resetModeTables(database.db);
  fake.calls.length = 0;
  fake.messages.length = 0;
  answerThreadPost = () => undefined;
  // The request message itself always posts; the replies in its thread are answered as the test says.
  fake.on('chat.postMessage', (body) => (typeof body.thread_ts === 'string' ? answerThreadPost(body) : undefined));
});

/** A live change request posted in the ops channel and overdue (its expiry passed), and the sweep's world around it. */
async function overdueRequest(announceRetry?: AnnounceRetry): Promise<World> {
  const posted = await new WebClient('xoxb-0000-test-not-a-real-token', { slackApiUrl: fake.url, retryConfig: { retries: 0 } })
    .chat.postMessage({ channel: OPS, text: 'Live change request: switch to LIVE trading' });
  const [request] = await database.db.insert(modeChangeRequests).values({
    requester: 'UOPER0001', requesterSource: 'slack', fromMode: 'paper', toMode: 'live', slackChannel: OPS, slackTs: posted.ts!,
    createdAt: sql`now() - interval '40 minutes'`, expiresAt: sql`now() - interval '10 minutes'`,
  }).returning();
  const config = alertConfig(fake, { SLACK_OPS_CHANNEL: OPS });
  const logs: World['logs'] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line) as World['logs'][number]) });
  const alerts: AlertInput[] = [];
  const ports = defaultLiveSwitchPorts(config, slackNotifier({ config, logger }), database.db);
  const ctx = { db: database.db, logger, alerts: { raise: async (a: AlertInput) => void alerts.push(a) }, ...(announceRetry ? { announceRetry } : {}) };
  return { ctx, ports, alerts, logs, requestId: request!.id, threadTs: posted.ts! };
}

async function trail(requestId: number) {
  return database.db.select().from(modeChangeEvents).where(eq(modeChangeEvents.requestId, requestId)).orderBy(asc(modeChangeEvents.id));
}

/** The replies Slack holds in the thread (the fake keeps every message it answered as posted). */
const replies = (w: World) => fake.messages.filter((m) => m.threadTs === w.threadTs);
const threadPosts = (w: World) => fake.callsTo('chat.postMessage').filter((c) => c.body.thread_ts === w.threadTs);

/** Waits until the database's clock (the one retryAt is written on) has reached `at`. */
async function untilDatabaseReaches(at: string): Promise<void> {
  for (;;) {
    const [row] = (await database.db.execute(sql`select now() >= ${at}::timestamptz as due`)) as unknown as Array<{ due: boolean }>;
    if (row?.due) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

async function rendered(requestId: number): Promise<string> {
  const [record] = await modeHistory({ db: database.db }, { limit: 1, id: requestId });
  return renderSignOff(record!);
}

describe('announcing a request the expiry sweep closed', () => {
  it('keeps a failed post pending with its failure and attempt, tries it again after the backoff, then records it delivered', async () => {
    const w = await overdueRequest({ claimStaleMs: ANNOUNCE_CLAIM_STALE_MS, backoffMs: (attempt) => 300 * attempt });
    let refusals = 1;
    answerThreadPost = () => (refusals-- > 0 ? { body: { ok: false, error: 'service_unavailable' } } : undefined);

    await expireOverdueRequests(w.ctx, w.ports);
    const first = await trail(w.requestId);
    expect(first.map((e) => e.kind)).toEqual(['expired', 'announcing', 'announce_pending']);
    const failed = first.at(-1)!;
    expect(failed.details).toMatchObject({ attempt: 1, error: 'slack refused: service_unavailable' });
    expect(Date.parse(String(failed.details['retryAt'])) - failed.at.getTime()).toBe(300);
    expect(replies(w)).toEqual([]);
    expect(await rendered(w.requestId)).toContain(`announcement: pending — 1 attempt, the last failed: slack refused: service_unavailable; next try at ${String(failed.details['retryAt'])}`);
    expect(w.logs.some((l) => l.level === 40 && l.requestId === w.requestId && String(l.msg).includes('still pending'))).toBe(true);

    await untilDatabaseReaches(String(failed.details['retryAt']));
    await expireOverdueRequests(w.ctx, w.ports);
    const after = await trail(w.requestId);
    expect(after.map((e) => e.kind)).toEqual(['expired', 'announcing', 'announce_pending', 'announcing', 'announced']);
    expect(after.at(-1)!.details).toMatchObject({ attempt: 2, found: false, ts: replies(w)[0]?.ts });
    // The second attempt looked in the thread first (the first may have reached Slack), then posted once.
    expect(fake.callsTo('conversations.replies')).toHaveLength(1);
    expect(replies(w).map((m) => [m.text.includes(`#${w.requestId} expired`), m.metadata])).toEqual([
      [true, { event_type: 'ctb_mode_announcement', event_payload: { request_id: w.requestId } }],
    ]);
    // The request's alert was raised once, with the first claim, not again with the retry.
    expect(w.alerts.map((a) => a.fingerprint)).toEqual([`mode-request-${w.requestId}`]);
    expect(await rendered(w.requestId)).toMatch(/announcement: delivered at \S+ \(2 attempts\)/);

    await expireOverdueRequests(w.ctx, w.ports);
    expect(threadPosts(w)).toHaveLength(2);
  });

  it('waits the Retry-After of a 429 before the next try, not the backoff, and does not post meanwhile', async () => {
    const w = await overdueRequest();
    let limited = 1;
    answerThreadPost = () => (limited-- > 0 ? { status: 429, headers: { 'retry-after': '2' }, body: { ok: false, error: 'ratelimited' } } : undefined);

    await expireOverdueRequests(w.ctx, w.ports);
    const pending = (await trail(w.requestId)).at(-1)!;
    expect(pending.kind).toBe('announce_pending');
    expect(pending.details).toMatchObject({ attempt: 1, retryAfterMs: 2_000 });
    expect(Date.parse(String(pending.details['retryAt'])) - pending.at.getTime()).toBe(2_000);
    // Before Retry-After has passed a sweep leaves it alone.
    await expireOverdueRequests(w.ctx, w.ports);
    expect(threadPosts(w)).toHaveLength(1);
    expect((await trail(w.requestId)).map((e) => e.kind)).toEqual(['expired', 'announcing', 'announce_pending']);

    await untilDatabaseReaches(String(pending.details['retryAt']));
    await expireOverdueRequests(w.ctx, w.ports);
    expect((await trail(w.requestId)).map((e) => e.kind)).toEqual(['expired', 'announcing', 'announce_pending', 'announcing', 'announced']);
    expect(threadPosts(w)).toHaveLength(2);
    expect(threadPosts(w)[1]!.at - threadPosts(w)[0]!.at).toBeGreaterThanOrEqual(1_900);
    expect(replies(w)).toHaveLength(1);
  });

  it('records a refusal no retry can change as failed for good, logs it at error, raises it as an alert, and does not try again', async () => {
    const w = await overdueRequest({ claimStaleMs: ANNOUNCE_CLAIM_STALE_MS, backoffMs: () => 0 });
    answerThreadPost = () => ({ body: { ok: false, error: 'not_in_channel' } });

    await expireOverdueRequests(w.ctx, w.ports);
    const events = await trail(w.requestId);
    expect(events.map((e) => e.kind)).toEqual(['expired', 'announcing', 'announce_failed']);
    expect(events.at(-1)!.details).toMatchObject({ attempt: 1, error: 'slack refused: not_in_channel', permanent: true });
    const errors = w.logs.filter((l) => l.level === 50);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ requestId: w.requestId, error: 'slack refused: not_in_channel', channel: OPS, threadTs: w.threadTs });
    expect(w.alerts.map((a) => [a.fingerprint, a.severity])).toEqual([[`mode-request-${w.requestId}`, 'info'], [`mode-announce-${w.requestId}`, 'warning']]);
    expect(w.alerts[1]!.title).toContain('not_in_channel');
    expect(await rendered(w.requestId)).toMatch(/announcement: FAILED for good at \S+ after 1 attempt: slack refused: not_in_channel/);

    await expireOverdueRequests(w.ctx, w.ports);
    await expireOverdueRequests(w.ctx, w.ports);
    expect(threadPosts(w)).toHaveLength(1);
    expect(await trail(w.requestId)).toHaveLength(3);
  });

  it('takes over from an announcer that stopped after Slack took the reply and before recording it: finds the reply, records it, posts nothing', async () => {
    const w = await overdueRequest({ claimStaleMs: 2_000, backoffMs: () => 0 });
    // The first announcer stops (its recording fails) right after Slack took its reply.
    await database.db.execute(sql.raw(`
      create function ctb_t_announcer_stops() returns trigger language plpgsql as $$ begin
        if new.kind in ('announced', 'announce_pending') then raise exception 'the announcer stopped'; end if;
        return new; end $$;
      create trigger ctb_t_announcer_stops before insert on mode_change_events for each row execute function ctb_t_announcer_stops();`));
    try {
      await expect(expireOverdueRequests(w.ctx, w.ports)).rejects.toThrow(/the announcer stopped|Failed query/);
    } finally {
      await database.db.execute(sql.raw('drop trigger ctb_t_announcer_stops on mode_change_events; drop function ctb_t_announcer_stops();'));
    }
    expect(replies(w)).toHaveLength(1);
    expect((await trail(w.requestId)).map((e) => e.kind)).toEqual(['expired', 'announcing']);
    // Its claim goes stale.
    const claim = (await trail(w.requestId)).find((e) => e.kind === 'announcing')!;
    await untilDatabaseReaches(new Date(claim.at.getTime() + 2_001).toISOString());

    await expireOverdueRequests(w.ctx, w.ports);
    expect(replies(w)).toHaveLength(1);
    expect(threadPosts(w)).toHaveLength(1);
    const events = await trail(w.requestId);
    expect(events.map((e) => e.kind)).toEqual(['expired', 'announcing', 'announcing', 'announced']);
    expect(events.at(-1)!.details).toMatchObject({ attempt: 2, found: true, ts: replies(w)[0]!.ts });
    expect(w.alerts).toHaveLength(1);
    expect(await rendered(w.requestId)).toContain('found in the thread, posted by an earlier attempt');
  });

  it('leaves the reply to a process that can post in Slack when the sweeping one cannot, instead of recording it announced', async () => {
    const w = await overdueRequest();
    const noSlack = defaultLiveSwitchPorts(alertConfig(null), null, database.db);
    await expireOverdueRequests(w.ctx, noSlack);
    expect((await trail(w.requestId)).map((e) => e.kind)).toEqual(['expired']);
    expect(w.alerts).toEqual([]);
    expect(await rendered(w.requestId)).toContain('announcement: pending — not tried yet');

    await expireOverdueRequests(w.ctx, w.ports);
    expect((await trail(w.requestId)).map((e) => e.kind)).toEqual(['expired', 'announcing', 'announced']);
    expect(replies(w)).toHaveLength(1);
    expect(w.alerts).toHaveLength(1);
  });

  it('two replicas sweeping one database, Slack failing the first post: the reply is posted once and recorded once', async () => {
    const w = await overdueRequest();
    let refusals = 1;
    // Each post takes a moment, so the other replica sweeps while one is under way.
    answerThreadPost = async () => {
      await new Promise((resolve) => setTimeout(resolve, 100));
      return refusals-- > 0 ? { body: { ok: false, error: 'service_unavailable' } } : undefined;
    };
    const replicas = await Promise.all([0, 1].map(() => lineChild('announce-child', [database.url, fake.url, OPS, '200'])));
    for (const r of replicas) r.send('go');
    for (const r of replicas) expect(await r.next()).toBe('done');
    for (const r of replicas) await r.exitClean();

    const kinds = (await trail(w.requestId)).map((e) => e.kind);
    expect(kinds).toEqual(['expired', 'announcing', 'announce_pending', 'announcing', 'announced']);
    expect(threadPosts(w)).toHaveLength(2);
    expect(replies(w)).toHaveLength(1);
  }, 60_000);
});
