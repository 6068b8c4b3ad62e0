// An announcement attempt that outlives its claim — its process alive but slow (a look or a post held
// up, a paused process) while the claim went stale and another attempt took over — neither posts the
// outcome a second time nor records anything over what the takeover recorded: it re-checks under the
// row lock just before posting that its claim is still the latest and that its post can end before
// the claim goes stale, and records its result only while its claim is the latest and nothing is
// recorded. The claim's stale window is derived from the Slack settings and outlasts one attempt.
// Through the real Slack notifier against the fake Slack, on real PostgreSQL.
import { WebClient } from '@slack/web-api';
import { asc, eq, sql } from 'drizzle-orm';
import pino from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AlertInput, AlertSink } from '../../../src/alerts/types.js';
import { defaultLiveSwitchPorts } from '../../../src/app/live-switch-ports.js';
import { renderSignOff } from '../../../src/cli/commands/mode.js';
import { modeChangeEvents, modeChangeRequests } from '../../../src/db/schema/index.js';
import { announceRetryFor, type AnnounceRetry } from '../../../src/services/mode/announce-pending.js';
import { slackCallMaxMs } from '../../../src/slack/call-bound.js';
import { expireOverdueRequests } from '../../../src/services/mode/expire-requests.js';
import type { LiveSwitchPorts } from '../../../src/services/mode/ports.js';
import { modeHistory } from '../../../src/services/mode/sign-off.js';
import { slackNotifier } from '../../../src/slack/notifier.js';
import { alertConfig } from '../../support/alert-fixtures.js';
import { createPostgresTestDb, type TestDatabase } from '../../support/db.js';
import { startFakeSlack, type FakeSlack, type SlackAnswer } from '../../support/fake-slack.js';
import { resetModeTables } from '../../support/mode-harness.js';

const OPS = 'C0OPSTAKE';

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

/** Resolves when `n` thread posts have reached the fake. */
async function untilThreadPosts(w: World, n: number): Promise<void> {
  while (threadPosts(w).length < n) await new Promise((resolve) => setTimeout(resolve, 10));
}

describe('an announcement attempt that outlives its claim', () => {
  /** Holds the first conversations.replies (answering the thread as it was when asked) until released. */
  function holdFirstLook(w: World) {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let first = true;
    fake.on('conversations.replies', async () => {
      if (!first) return undefined;
      first = false;
      const asked = { ok: true, messages: [{ ts: w.threadTs, text: 'Live change request' }], has_more: false };
      await gate;
      return { body: asked };
    });
    return release;
  }

  /** An earlier attempt's claim left behind (its process stopped before posting), stale from the start. */
  async function staleFirstClaim(w: World) {
    await database.db.insert(modeChangeEvents).values({ requestId: w.requestId, at: sql`now() - interval '1 hour'`, kind: 'announcing', actor: 'system', details: { attempt: 1 } });
  }

  async function claimOf(w: World, attempt: number) {
    return (await trail(w.requestId)).find((e) => e.kind === 'announcing' && e.details['attempt'] === attempt)!;
  }

  async function untilLooks(n: number): Promise<void> {
    while (fake.callsTo('conversations.replies').length < n) await new Promise((resolve) => setTimeout(resolve, 10));
  }

  it('does not post once a takeover has claimed it, and records nothing: the outcome is in the thread once', async () => {
    const w = await overdueRequest({ claimStaleMs: 2_000, postMaxMs: 0, backoffMs: () => 60_000 });
    await staleFirstClaim(w);
    const release = holdFirstLook(w);
    const slow = expireOverdueRequests(w.ctx, w.ports); // attempt 2: looks (held)
    await untilLooks(1);
    await untilDatabaseReaches(new Date((await claimOf(w, 2)).at.getTime() + 2_001).toISOString());
    await expireOverdueRequests(w.ctx, w.ports); // attempt 3 takes over: looks, finds nothing, posts, records
    expect(replies(w)).toHaveLength(1);
    release();
    await slow;

    expect(replies(w)).toHaveLength(1);
    expect(threadPosts(w)).toHaveLength(1);
    expect((await trail(w.requestId)).map((e) => e.kind)).toEqual(['announcing', 'expired', 'announcing', 'announcing', 'announced']);
    expect(w.logs.some((l) => l.level === 30 && /attempt 2 stopped before posting: superseded by attempt 3/.test(l.msg))).toBe(true);
    expect(await rendered(w.requestId)).toContain('announcement: delivered');
  });

  it('does not start a post it could not end before its claim goes stale: records it pending, and the next try posts it', async () => {
    const w = await overdueRequest({ claimStaleMs: 4_000, postMaxMs: 2_000, backoffMs: () => 0 });
    await staleFirstClaim(w);
    const release = holdFirstLook(w);
    const slow = expireOverdueRequests(w.ctx, w.ports);
    await untilLooks(1);
    await untilDatabaseReaches(new Date((await claimOf(w, 2)).at.getTime() + 2_001).toISOString());
    release();
    await slow;
    expect(threadPosts(w)).toHaveLength(0);
    const events = await trail(w.requestId);
    expect(events.map((e) => e.kind)).toEqual(['announcing', 'expired', 'announcing', 'announce_pending']);
    expect(String(events.at(-1)!.details['error'])).toMatch(/attempt 2 ran out of time before posting/);

    await expireOverdueRequests(w.ctx, w.ports);
    expect(replies(w)).toHaveLength(1);
    expect((await trail(w.requestId)).at(-1)!.kind).toBe('announced');
  });

  // The first attempt's post is answered only after a takeover delivered the outcome (the first post
  // held past its claim, as a paused process would): whatever it is then answered, the record stays delivered.
  async function lateAnswerAfterTakeover(late: SlackAnswer) {
    const w = await overdueRequest({ claimStaleMs: 2_000, postMaxMs: 0, backoffMs: () => 60_000 });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let first = true;
    answerThreadPost = async () => {
      if (!first) return undefined;
      first = false;
      await gate;
      return late;
    };
    const slow = expireOverdueRequests(w.ctx, w.ports);
    await untilThreadPosts(w, 1);
    await untilDatabaseReaches(new Date((await claimOf(w, 1)).at.getTime() + 2_001).toISOString());
    await expireOverdueRequests(w.ctx, w.ports);
    release();
    await slow;
    return w;
  }

  it('a refusal for good answered after a takeover delivered it records nothing: delivered, no failure alert, no error', async () => {
    const w = await lateAnswerAfterTakeover({ body: { ok: false, error: 'not_in_channel' } });
    expect(replies(w)).toHaveLength(1);
    expect((await trail(w.requestId)).map((e) => e.kind)).toEqual(['expired', 'announcing', 'announcing', 'announced']);
    expect(await rendered(w.requestId)).toContain('announcement: delivered');
    expect(w.alerts.map((a) => a.fingerprint)).toEqual([`mode-request-${w.requestId}`]);
    expect(w.logs.filter((l) => l.level >= 50)).toEqual([]);
    expect(w.logs.some((l) => /attempt 1 was superseded by attempt 2/.test(l.msg))).toBe(true);
  });

  it('a transient failure answered after a takeover delivered it records nothing: delivered, not pending', async () => {
    const w = await lateAnswerAfterTakeover({ body: { ok: false, error: 'service_unavailable' } });
    expect((await trail(w.requestId)).map((e) => e.kind)).toEqual(['expired', 'announcing', 'announcing', 'announced']);
    expect(await rendered(w.requestId)).toContain('announcement: delivered');
  });

  it('renders delivered when an older announcer recorded a failure after the delivery', async () => {
    const w = await overdueRequest({ claimStaleMs: 2_000, postMaxMs: 0, backoffMs: () => 60_000 });
    await expireOverdueRequests(w.ctx, w.ports);
    await database.db.insert(modeChangeEvents).values({ requestId: w.requestId, at: sql`now()`, kind: 'announce_failed', actor: 'system', details: { attempt: 1, error: 'slack refused: not_in_channel', permanent: true } });
    expect(await rendered(w.requestId)).toContain('announcement: delivered');
  });
});

describe('the claim of an announcement', () => {
  it('outlasts one attempt at the longest settings: the look and the post, every try to SLACK_API_TIMEOUT, and the database work', () => {
    const config = { SLACK_API_TIMEOUT: 120_000, SLACK_RETRY_PAUSE: 10_000 };
    const call = slackCallMaxMs(config);
    expect(call).toBeGreaterThanOrEqual(3 * 120_000);
    const retry = announceRetryFor(call);
    expect(retry.claimStaleMs).toBeGreaterThan(3 * call); // two pages of the look and the post
    expect(retry.postMaxMs).toBe(call);
  });

  it('is derived from the Slack settings of the process', async () => {
    const config = alertConfig(fake, { SLACK_OPS_CHANNEL: OPS, SLACK_API_TIMEOUT: '2m' });
    const ports = defaultLiveSwitchPorts(config, slackNotifier({ config, logger: pino({ level: 'silent' }) }), database.db);
    expect(ports.announcer.callMaxMs).toBe(slackCallMaxMs(config));
    expect(ports.announcer.callMaxMs).toBeGreaterThanOrEqual(360_000);
  });
});
