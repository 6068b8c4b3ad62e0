// An announcement attempt that outlives its claim — its process alive but slow (a look or a post held
// up, a paused process) while the claim went stale and another attempt took over — neither posts the
// outcome a second time nor records anything over what the takeover recorded: it re-checks under the
// row lock just before posting that its claim is still the latest and that its post can end before
// the claim goes stale, and records its result only while its claim is the latest and nothing is
// recorded. The claim's stale window is derived from the Slack settings and outlasts one attempt.
// Through the real Slack notifier against the fake Slack, on real PostgreSQL.
import { sql } from 'drizzle-orm';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { defaultLiveSwitchPorts } from '../../../src/app/live-switch-ports.js';
import { modeChangeEvents } from '../../../src/db/schema/index.js';
import { announceRetryFor } from '../../../src/services/mode/announce-pending.js';
import { slackCallMaxMs } from '../../../src/slack/call-bound.js';
import { expireOverdueRequests } from '../../../src/services/mode/expire-requests.js';
import { slackNotifier } from '../../../src/slack/notifier.js';
import { alertConfig } from '../../support/alert-fixtures.js';
import type { SlackAnswer } from '../../support/fake-slack.js';
import { announceBed, type World } from './announce-bed.js';

const OPS = 'C0OPSTAKE';
/**
 * The claim's stale window where a test waits for a claim to go stale (a takeover): short, since the
 * attempt it outlives is held by the test, not raced. Derived from the Slack settings in production
 * (the last describe checks that derivation).
 */
const STALE_MS = 1_000;

const bed = announceBed(OPS);
const { overdueRequest, trail, replies, threadPosts, untilDatabaseReaches, rendered } = bed;

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
    bed.fake.on('conversations.replies', async () => {
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
    await bed.database.db.insert(modeChangeEvents).values({ requestId: w.requestId, at: sql`now() - interval '1 hour'`, kind: 'announcing', actor: 'system', details: { attempt: 1 } });
  }

  async function claimOf(w: World, attempt: number) {
    return (await trail(w.requestId)).find((e) => e.kind === 'announcing' && e.details['attempt'] === attempt)!;
  }

  async function untilLooks(n: number): Promise<void> {
    while (bed.fake.callsTo('conversations.replies').length < n) await new Promise((resolve) => setTimeout(resolve, 10));
  }

  it('does not post once a takeover has claimed it, and records nothing: the outcome is in the thread once', async () => {
    const w = await overdueRequest({ claimStaleMs: STALE_MS, postMaxMs: 0, backoffMs: () => 60_000 });
    await staleFirstClaim(w);
    const release = holdFirstLook(w);
    const slow = expireOverdueRequests(w.ctx, w.ports); // attempt 2: looks (held)
    await untilLooks(1);
    await untilDatabaseReaches(new Date((await claimOf(w, 2)).at.getTime() + STALE_MS + 1).toISOString());
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
    // Held past half its window, the rest shorter than a post may take.
    const w = await overdueRequest({ claimStaleMs: 2 * STALE_MS, postMaxMs: STALE_MS, backoffMs: () => 0 });
    await staleFirstClaim(w);
    const release = holdFirstLook(w);
    const slow = expireOverdueRequests(w.ctx, w.ports);
    await untilLooks(1);
    await untilDatabaseReaches(new Date((await claimOf(w, 2)).at.getTime() + STALE_MS + 1).toISOString());
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
    const w = await overdueRequest({ claimStaleMs: STALE_MS, postMaxMs: 0, backoffMs: () => 60_000 });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let first = true;
    bed.answerThreadPost = async () => {
      if (!first) return undefined;
      first = false;
      await gate;
      return late;
    };
    const slow = expireOverdueRequests(w.ctx, w.ports);
    await untilThreadPosts(w, 1);
    await untilDatabaseReaches(new Date((await claimOf(w, 1)).at.getTime() + STALE_MS + 1).toISOString());
    await expireOverdueRequests(w.ctx, w.ports);
    release();
    await slow;
    return w;
  }

  it('a refusal for good answered after a takeover delivered it records nothing: delivered, no failure alert, no error', async () => {
    const w = await lateAnswerAfterTakeover({ body: { ok: false, error: 'not_in_channel' } });
    expect(replies(w)).toHaveLength(1);
    expect((await trail(w.requestId)).map((e) => e.kind)).toEqual(['expired', 'outcome_alerted', 'announcing', 'announcing', 'announced']);
    expect(await rendered(w.requestId)).toContain('announcement: delivered');
    expect(w.alerts.map((a) => a.fingerprint)).toEqual([`mode-request-${w.requestId}`]);
    expect(w.logs.filter((l) => l.level >= 50)).toEqual([]);
    expect(w.logs.some((l) => /attempt 1 was superseded by attempt 2/.test(l.msg))).toBe(true);
  });

  it('a transient failure answered after a takeover delivered it records nothing: delivered, not pending', async () => {
    const w = await lateAnswerAfterTakeover({ body: { ok: false, error: 'service_unavailable' } });
    expect((await trail(w.requestId)).map((e) => e.kind)).toEqual(['expired', 'outcome_alerted', 'announcing', 'announcing', 'announced']);
    expect(await rendered(w.requestId)).toContain('announcement: delivered');
  });

  it('renders delivered when an older announcer recorded a failure after the delivery', async () => {
    const w = await overdueRequest({ claimStaleMs: 2_000, postMaxMs: 0, backoffMs: () => 60_000 });
    await expireOverdueRequests(w.ctx, w.ports);
    await bed.database.db.insert(modeChangeEvents).values({ requestId: w.requestId, at: sql`now()`, kind: 'announce_failed', actor: 'system', details: { attempt: 1, error: 'slack refused: not_in_channel', permanent: true } });
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
    const config = alertConfig(bed.fake, { SLACK_OPS_CHANNEL: OPS, SLACK_API_TIMEOUT: '2m' });
    const ports = defaultLiveSwitchPorts(config, slackNotifier({ config, logger: pino({ level: 'silent' }) }), bed.database.db);
    expect(ports.announcer.callMaxMs).toBe(slackCallMaxMs(config));
    expect(ports.announcer.callMaxMs).toBeGreaterThanOrEqual(360_000);
  });
});

describe('a process whose Slack token is refused', () => {
  it('leaves the announcement pending for a process that can post, logs it at error, alerts once; channel refusals stay failed', async () => {
    const w = await overdueRequest({ claimStaleMs: 2_000, backoffMs: () => 0, cannotPostBackoffMs: 0 });
    bed.answerThreadPost = () => ({ body: { ok: false, error: 'invalid_auth' } });
    await expireOverdueRequests(w.ctx, w.ports);
    let events = await trail(w.requestId);
    expect(events.map((e) => e.kind)).toEqual(['expired', 'outcome_alerted', 'announcing', 'announce_pending']);
    expect(events.at(-1)!.details).toMatchObject({ attempt: 1, error: 'slack refused: invalid_auth', cannotPost: true });
    expect(w.logs.filter((l) => l.level === 50)).toHaveLength(1);
    expect(await rendered(w.requestId)).toMatch(/announcement: pending/);

    await untilDatabaseReaches(String(events.at(-1)!.details['retryAt']));
    await expireOverdueRequests(w.ctx, w.ports); // refused again: still pending, no second alert
    events = await trail(w.requestId);
    expect(events.map((e) => e.kind)).toEqual(['expired', 'outcome_alerted', 'announcing', 'announce_pending', 'announcing', 'announce_pending']);
    expect(w.alerts.map((a) => a.fingerprint)).toEqual([`mode-request-${w.requestId}`, `mode-announce-${w.requestId}`]);
    expect(w.alerts[1]!.title).toContain("refused this process's token");

    bed.answerThreadPost = () => undefined; // a process with a good token
    await untilDatabaseReaches(String(events.at(-1)!.details['retryAt']));
    await expireOverdueRequests(w.ctx, w.ports);
    expect(replies(w)).toHaveLength(1);
    expect((await trail(w.requestId)).at(-1)!.kind).toBe('announced');
  });
});
