// Owns announcing a request's outcome (expired, failed, rejected, withdrawn, switched to live) in its
// thread until it is delivered, whatever stops the process or Slack between the closing and its
// announcement: the closing is announced right after its commit (announceNow) and by every sweep
// after until delivered. The closing's event marks the announcement pending in the closing's own
// transaction. Its alert does not wait for the thread: right after the commit the closing's process
// stores it, whether or not it can post in Slack (`ctb mode paper` in a shell without a Slack token),
// with an `outcome_alerted` event under the request's row lock — once, by whichever process comes
// first (a sweep's when the closing's process stopped before it, or older code closed the request).
// An announcer claims the reply under that lock (an `announcing` event naming the attempt), posts the
// outcome in the request's thread, and records what Slack answered: `announced`
// (delivered), `announce_pending` (not delivered: the error, and when to try again — Slack's
// Retry-After, else a backoff growing with the attempts) or `announce_failed` (Slack refused it for
// good: the bot is not in the channel, the token is refused; logged at error and raised as an alert,
// never tried again). A claim left by a process that stopped before recording goes stale after
// its stale window and is taken over; every attempt after the first reads the thread first (the reply
// carries the request's marker), so a reply an earlier attempt posted without recording it is recorded
// delivered, not posted twice. The stale window outlasts one attempt under the settings (the look's and
// the post's Slack calls, each its client's tries of SLACK_API_TIMEOUT, and the database work); just
// before posting the attempt re-checks under the row lock that its claim is still the latest and that
// the post can end before the claim goes stale, else it does not post; and it records what became of
// it only while its claim is the latest and nothing is recorded yet — an attempt that outlived its
// claim records nothing (logged "superseded"). Two processes never announce one request at once.
// An announcement still pending MODE_ANNOUNCE_ALERT_AFTER after its closing (Slack down for that long,
// every token refused) is raised once as an alert through the alert pipeline (an `announce_overdue`
// event in the same transaction), saying what the thread was not told; once delivered, that alert is
// resolved (`announce_overdue_resolved`), by the sweep that delivered it or the next one.
import { sql } from 'drizzle-orm';
import { execute, type Db } from '../../db/client.js';
import type { ModeChangeRequest } from '../../db/schema/index.js';
import { databaseNow } from '../../db/queries/database-clock.js';
import { describeDuration } from '../../config/duration.js';
import {
  announceAttempts, announceStanding, appendEvent, deliveredOverdueAnnouncements, lockRequest, overdueAnnouncements, pendingAnnouncements,
} from '../../db/queries/mode-change.js';
import { cannotPostHere, isPermanentFailure, retryAfterOf } from '../../notifications/notification.js';
import { storeAlertWithin } from '../../alerts/store-within.js';
import type { AlertInput } from '../../alerts/types.js';
import { outcomeAlert, outcomeOf, type AnnounceDeps } from './announce.js';
import type { LiveSwitchPorts, ThreadReply } from './ports.js';

/** The longest one Slack call takes as shipped (SLACK_API_TIMEOUT 10 s, three tries, pauses): what an announcer that does not say plans with. */
const DEFAULT_CALL_MAX_MS = 3 * 10_000 + 2 * 2_000;

/** Calls a look in the thread may make (pages of conversations.replies) before the attempt runs out of time. */
const LOOK_CALLS = 2;

/** The database work around one attempt (the claim's alert, the badge read, the record), paused processes included. */
const ANNOUNCE_DB_MARGIN_MS = 60_000;

/** The stale window of an announcer whose Slack calls take at most `callMaxMs` each: the look, the post and the database work. */
export function announceClaimStaleMs(callMaxMs: number): number {
  return (LOOK_CALLS + 1) * callMaxMs + ANNOUNCE_DB_MARGIN_MS;
}

/** A claim older than this was left by a stopped process, as shipped (see announceRetryFor for the one in use). */
export const ANNOUNCE_CLAIM_STALE_MS = announceClaimStaleMs(DEFAULT_CALL_MAX_MS);

/** What a closing event carries while its announcement is pending. */
export const ANNOUNCE_PENDING = { announce: 'pending' } as const;

/** When an announcement whose attempt stopped or failed is tried again. */
export interface AnnounceRetry {
  /**
   * A claim older than this is taken over: longer than one attempt can take (its look, its post, the
   * database work). An attempt posts only while its claim is the latest and `postMaxMs` before this runs out.
   */
  claimStaleMs: number;
  /** The longest the post itself can take once started (0 when not said): no attempt starts one it could not end before its claim goes stale. */
  postMaxMs?: number;
  /** The wait after the `attempt`-th failure when Slack named none (its Retry-After is waited when it did). */
  backoffMs(attempt: number): number;
  /** The least wait after Slack refused the process's token (10 min when not said): left for a process that can post, or a fixed token. */
  cannotPostBackoffMs?: number;
}

const CANNOT_POST_BACKOFF_MS = 10 * 60_000;

/** 30 s after the first failure, doubling to at most 30 minutes: the sweep runs every 30 s. */
const backoffMs = (attempt: number) => Math.min(30 * 60_000, 30_000 * 2 ** Math.max(0, attempt - 1));

/** The retry of an announcer whose one Slack call takes at most `callMaxMs` (its client's tries of SLACK_API_TIMEOUT). */
export function announceRetryFor(callMaxMs: number = DEFAULT_CALL_MAX_MS): AnnounceRetry {
  return { claimStaleMs: announceClaimStaleMs(callMaxMs), postMaxMs: callMaxMs, backoffMs };
}

export const ANNOUNCE_RETRY: AnnounceRetry = announceRetryFor();

/** How long an announcement may stay pending before it is raised as an alert, as shipped (MODE_ANNOUNCE_ALERT_AFTER). */
export const ANNOUNCE_ALERT_AFTER_MS = 15 * 60_000;

export type AnnouncePendingDeps = AnnounceDeps & {
  db: Db;
  announceRetry?: AnnounceRetry;
  /** MODE_ANNOUNCE_ALERT_AFTER; ANNOUNCE_ALERT_AFTER_MS when not given. */
  config?: { MODE_ANNOUNCE_ALERT_AFTER?: number };
};

interface Claim {
  request: ModeChangeRequest;
  attempt: number;
  approvals: Array<{ user: string; at: Date }>;
}

/** Thrown before the post by an attempt that may no longer post; nothing was posted, and it records nothing more when superseded. */
export class AnnounceStopped extends Error {
  constructor(readonly why: 'superseded' | 'out_of_time', message: string) {
    super(message);
    this.name = 'AnnounceStopped';
  }
}

/** Announces every closing whose announcement is due (only `ids` when given); returns the requests delivered now. */
export async function announcePending(ctx: AnnouncePendingDeps, ports: LiveSwitchPorts, opts: { ids?: number[] } = {}): Promise<ModeChangeRequest[]> {
  const retry = ctx.announceRetry ?? announceRetryFor(ports.announcer.callMaxMs);
  const announced: ModeChangeRequest[] = [];
  for (const id of await pendingAnnouncements(ctx.db, { claimStaleMs: retry.claimStaleMs, ...(opts.ids ? { ids: opts.ids } : {}) })) {
    const claim = await claimAnnouncement(ctx, id, retry, ports.announcer.available);
    if (claim && (await announceOne(ctx, ports, claim, retry))) announced.push(claim.request);
  }
  await resolveDeliveredOverdue(ctx);
  await alertOverdue(ctx, ctx.config?.MODE_ANNOUNCE_ALERT_AFTER ?? ANNOUNCE_ALERT_AFTER_MS);
  return announced;
}

/**
 * Announces the requests a caller has just closed (their closing marked the announcement pending in
 * its transaction, now committed): tried now, and by the sweep after until delivered. Never throws —
 * the decision stands whatever becomes of telling it; what stops it is logged and left to the sweep.
 */
export async function announceNow(ctx: AnnouncePendingDeps, ports: LiveSwitchPorts, requests: ModeChangeRequest[]): Promise<void> {
  if (requests.length === 0) return;
  try {
    await announcePending(ctx, ports, { ids: requests.map((r) => r.id) });
  } catch (err) {
    ctx.logger.error({ err, requestIds: requests.map((r) => r.id) }, 'could not announce the outcome of the request(s) now; left pending for the sweep');
  }
}

/** The approvals a switch to live recorded (its `switched` event), shown with its outcome; none for any other closing. */
async function approvalsOf(db: Db, request: ModeChangeRequest): Promise<Array<{ user: string; at: Date }>> {
  if (request.status !== 'switched') return [];
  const [row] = await execute<{ details: { approvals?: Array<{ user: string; at: string }> } }>(db, sql`select details from mode_change_events where request_id = ${request.id} and kind = 'switched'
    order by id limit 1`);
  return (row?.details.approvals ?? []).map((a) => ({ user: a.user, at: new Date(a.at) }));
}

/**
 * Whether the request's outcome alert is stored: its `outcome_alerted` event, or any claim — older code
 * stored the alert with the first claim and recorded nothing else.
 */
async function outcomeAlerted(tx: Db, id: number): Promise<boolean> {
  const [row] = await execute<{ alerted: boolean }>(tx, sql`select exists (select 1 from mode_change_events where request_id = ${id}
    and kind in ('outcome_alerted', 'announcing')) as alerted`);
  return row?.alerted === true;
}

const overdueFingerprint = (id: number) => `mode-announce-overdue-${id}`;

/** Raises, once per announcement, the alert of every announcement pending `afterMs` or longer. */
async function alertOverdue(ctx: AnnouncePendingDeps, afterMs: number): Promise<void> {
  for (const { id } of await overdueAnnouncements(ctx.db, { afterMs })) {
    let afterCommit: (() => Promise<void>) | undefined;
    let raised: Record<string, unknown> | undefined;
    await ctx.db.transaction(async (tx) => {
      const request = await lockRequest(tx, { id });
      // Another process may have raised it, or the announcement been settled, since the read above.
      const [due] = await overdueAnnouncements(tx, { afterMs, ids: [id] });
      if (!request || !due) return;
      const trail = await execute<{ kind: string; details: Record<string, unknown> }>(tx, sql`select kind, details from mode_change_events where request_id = ${id}
        and kind in ('announcing', 'announce_pending') order by id`);
      const attempts = trail.filter((e) => e.kind === 'announcing').length;
      const lastFailure = trail.filter((e) => e.kind === 'announce_pending').at(-1)?.details;
      const error = typeof lastFailure?.['error'] === 'string' ? lastFailure['error'] : null;
      const now = await databaseNow(tx);
      const outcome = outcomeOf(request);
      const fingerprint = overdueFingerprint(id);
      raised = { requestId: id, attempts, error, pendingSince: due.since.toISOString() };
      const alert: AlertInput = {
        // Critical: raised when Slack has refused for that long, so it goes by mail and escalation too (alerts/policy.ts).
        source: 'mode', severity: 'critical', fingerprint,
        title: `${outcome.title}, and its Slack thread has not been told for ${describeDuration(now.getTime() - due.since.getTime())}`
          + (error ? ` (last error: ${error})` : attempts === 0 ? ' (no process that can post in Slack has tried)' : ''),
        details: {
          requestId: id, status: request.status, requester: request.requester, outcome: request.outcome,
          channel: request.slackChannel, threadTs: request.slackTs, pendingSince: due.since.toISOString(), attempts, lastError: error,
          ...(typeof lastFailure?.['retryAt'] === 'string' ? { retryAt: lastFailure['retryAt'] } : {}),
        },
      };
      await appendEvent(tx, { requestId: id, at: now, kind: 'announce_overdue', actor: 'system', details: { fingerprint, pendingSince: due.since.toISOString(), afterMs, attempts } });
      afterCommit = await storeWithin(ctx, tx, alert);
    });
    if (raised) {
      await afterCommit?.();
      ctx.logger.error(raised, `request #${id}'s outcome is still not in its Slack thread after ${afterMs} ms: raised as an alert`);
    }
  }
}

/**
 * Resolves the overdue alert of every announcement delivered, or failed for good (its own alert says
 * so), since it was raised, and records that it did.
 */
async function resolveDeliveredOverdue(ctx: AnnouncePendingDeps): Promise<void> {
  for (const { id, fingerprint, failed } of await deliveredOverdueAnnouncements(ctx.db)) {
    let groupId: number | null = null;
    const note = failed ? `request #${id}'s outcome could not be posted in its Slack thread for good: its own alert says why` : `request #${id}'s outcome is now in its Slack thread`;
    try {
      groupId = (await ctx.alerts.resolve?.({ fingerprint, by: 'system', note })) ?? null;
    } catch (err) {
      ctx.logger.error({ err, requestId: id, fingerprint }, `could not resolve the alert of request #${id}'s late announcement; tried again next sweep`);
      continue;
    }
    await ctx.db.transaction(async (tx) => {
      await lockRequest(tx, { id });
      if ((await deliveredOverdueAnnouncements(tx, { ids: [id] })).length === 0) return;
      await appendEvent(tx, { requestId: id, at: await databaseNow(tx), kind: 'announce_overdue_resolved', actor: 'system', details: { fingerprint, groupId } });
    });
  }
}

/** The alert stored with `tx` (src/alerts/store-within.ts). */
const storeWithin = (ctx: AnnouncePendingDeps, tx: Db, alert: AlertInput) => storeAlertWithin(ctx.alerts, ctx.logger, tx, alert);

async function claimAnnouncement(ctx: AnnouncePendingDeps, id: number, retry: AnnounceRetry, canPost: boolean): Promise<Claim | undefined> {
  let afterCommit: (() => Promise<void>) | undefined;
  const claim = await ctx.db.transaction(async (tx) => {
    const request = await lockRequest(tx, { id });
    // Another process may have claimed, announced or failed it since the read above.
    if (!request || (await pendingAnnouncements(tx, { claimStaleMs: retry.claimStaleMs, ids: [id] })).length === 0) return undefined;
    const approvals = await approvalsOf(tx, request);
    // The outcome's alert, once, by whichever process comes first — Slack or not: never with the reply.
    if (!(await outcomeAlerted(tx, id))) {
      const alert = outcomeAlert(request, approvals);
      await appendEvent(tx, { requestId: id, at: await databaseNow(tx), kind: 'outcome_alerted', actor: 'system', details: { fingerprint: alert.fingerprint } });
      afterCommit = await storeWithin(ctx, tx, alert);
    }
    // A process that cannot post in Slack (not configured here) leaves a thread's reply to one that can.
    if (request.slackChannel && request.slackTs && !canPost) return undefined;
    const attempt = (await announceAttempts(tx, id)) + 1;
    await appendEvent(tx, { requestId: id, at: await databaseNow(tx), kind: 'announcing', actor: 'system', details: { attempt } });
    return { request, attempt, approvals };
  });
  // Committed: the alert is stored whether or not this process claimed the reply.
  await afterCommit?.();
  return claim;
}

/**
 * Records what became of `claim`'s attempt, under the request's row lock, only while that attempt is
 * still the announcement's: its claim the latest and nothing delivered or failed for good yet. A later
 * attempt took it over otherwise (this one outlived its claim): logged, nothing recorded, no alert.
 * `write` returns what to run once committed. False when superseded.
 */
async function recordIfOwned(
  ctx: AnnouncePendingDeps, { request, attempt }: Claim, what: string, write: (tx: Db, at: Date) => Promise<(() => Promise<void>) | void>,
): Promise<boolean> {
  let superseded: { by: number | null; settled: boolean } | undefined;
  const afterCommit = await ctx.db.transaction(async (tx) => {
    await lockRequest(tx, { id: request.id });
    const standing = await announceStanding(tx, request.id);
    if (standing.settled || standing.latest?.attempt !== attempt) {
      superseded = { by: standing.latest?.attempt ?? null, settled: standing.settled };
      return undefined;
    }
    return (await write(tx, standing.now)) ?? undefined;
  });
  if (superseded) {
    ctx.logger.info({ requestId: request.id, attempt, latestAttempt: superseded.by, settled: superseded.settled },
      `request #${request.id}'s announcement attempt ${attempt} was superseded by attempt ${superseded.by ?? '?'}${superseded.settled ? ' (already recorded)' : ''}: its ${what} is not recorded`);
    return false;
  }
  await afterCommit?.();
  return true;
}

/**
 * Just before the post: this attempt's claim must still be the latest, nothing recorded yet, and the
 * post must be able to end (postMaxMs) before the claim goes stale — else it throws, nothing posted.
 * Narrows the window between the check and the post to the post itself, which the stale window outlasts.
 */
async function checkStillOwned(ctx: AnnouncePendingDeps, { request, attempt }: Claim, retry: AnnounceRetry): Promise<void> {
  const standing = await ctx.db.transaction(async (tx) => {
    await lockRequest(tx, { id: request.id });
    return announceStanding(tx, request.id);
  });
  if (standing.settled || standing.latest?.attempt !== attempt) {
    throw new AnnounceStopped('superseded', `superseded by attempt ${standing.latest?.attempt ?? '?'}${standing.settled ? ' (already recorded)' : ''}`);
  }
  const postBy = standing.latest.at.getTime() + retry.claimStaleMs - (retry.postMaxMs ?? 0);
  if (standing.now.getTime() > postBy) {
    throw new AnnounceStopped('out_of_time', `attempt ${attempt} ran out of time before posting (its claim of ${retry.claimStaleMs} ms would go stale during the post); not posted`);
  }
}

/** One attempt: posted (or found already posted) and recorded; or its failure recorded. True when delivered and recorded by it. */
async function announceOne(ctx: AnnouncePendingDeps, ports: LiveSwitchPorts, claim: Claim, retry: AnnounceRetry): Promise<boolean> {
  const { request, attempt } = claim;
  const id = request.id;
  const { slackChannel: channel, slackTs: threadTs } = request;
  if (!channel || !threadTs) {
    // Never posted in Slack: no thread to reply in; its alert is all there is to tell.
    return recordIfOwned(ctx, claim, 'delivery', async (tx, at) => {
      await appendEvent(tx, { requestId: id, at, kind: 'announced', actor: 'system', details: { attempt, thread: null } });
    });
  }
  let reply: ThreadReply | undefined;
  try {
    const view = outcomeOf(request, claim.approvals);
    if (ports.announcer.announceInThread) {
      reply = await ports.announcer.announceInThread(channel, threadTs, view, { checkSent: attempt > 1, beforePost: () => checkStillOwned(ctx, claim, retry) });
    } else {
      await checkStillOwned(ctx, claim, retry);
      await ports.announcer.postInThread(channel, threadTs, view);
    }
  } catch (err) {
    if (err instanceof AnnounceStopped && err.why === 'superseded') {
      ctx.logger.info({ requestId: id, attempt }, `request #${id}'s announcement attempt ${attempt} stopped before posting: ${err.message}; not posted, nothing recorded`);
      return false;
    }
    await recordFailure(ctx, { ...claim, channel, threadTs }, err, retry);
    return false;
  }
  const recorded = await recordIfOwned(ctx, claim, 'delivery', async (tx, at) => {
    await appendEvent(tx, {
      requestId: id, at, kind: 'announced', actor: 'system',
      details: { attempt, channel, ...(reply ? { ts: reply.ts, found: reply.found } : {}) },
    });
  });
  if (recorded && reply?.found) ctx.logger.info({ requestId: id, attempt, ts: reply.ts }, `request #${id}'s outcome was already in its thread (an earlier attempt posted it): recorded, not posted again`);
  return recorded;
}

async function recordFailure(
  ctx: AnnouncePendingDeps, where: Claim & { channel: string; threadTs: string }, err: unknown, retry: AnnounceRetry,
): Promise<void> {
  const { request, attempt, channel, threadTs } = where;
  const id = request.id;
  const error = ((err as Error | null)?.message ?? String(err)).slice(0, 500);
  const fields = { requestId: id, attempt, channel, threadTs, error };
  if (isPermanentFailure(err)) {
    const alert: AlertInput = {
      source: 'mode', severity: 'warning', fingerprint: `mode-announce-${id}`,
      title: `Request #${id}'s outcome could not be posted in its Slack thread: ${error}`,
      details: { requestId: id, status: request.status, channel, threadTs, error, attempt, outcome: request.outcome },
    };
    const recorded = await recordIfOwned(ctx, where, 'failure', async (tx, at) => {
      await appendEvent(tx, { requestId: id, at, kind: 'announce_failed', actor: 'system', details: { attempt, error, permanent: true } });
      return storeWithin(ctx, tx, alert);
    });
    if (recorded) ctx.logger.error(fields, `request #${id}'s outcome could not be posted in its Slack thread and trying again cannot help (${error}); recorded failed, not retried`);
    return;
  }
  if (cannotPostHere(err)) {
    await recordCannotPost(ctx, where, error, retry);
    return;
  }
  const retryAfterMs = retryAfterOf(err);
  const waitMs = retryAfterMs ?? retry.backoffMs(attempt);
  let retryAt = '';
  const recorded = await recordIfOwned(ctx, where, 'failure', async (tx, at) => {
    retryAt = new Date(at.getTime() + waitMs).toISOString();
    await appendEvent(tx, {
      requestId: id, at, kind: 'announce_pending', actor: 'system',
      details: { attempt, error, retryAt, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) },
    });
  });
  if (recorded) ctx.logger.warn({ ...fields, retryAt }, `could not post request #${id}'s outcome in its Slack thread (${error}); still pending, next try at ${retryAt}`);
}

/**
 * Slack refused this process's token: not a failure of the announcement — another process, or this
 * one once the token is fixed, can post it. Left pending with a long wait, logged at error, and
 * raised once per announcement as an alert.
 */
async function recordCannotPost(ctx: AnnouncePendingDeps, where: Claim & { channel: string; threadTs: string }, error: string, retry: AnnounceRetry): Promise<void> {
  const { request, attempt, channel, threadTs } = where;
  const id = request.id;
  const waitMs = Math.max(retry.backoffMs(attempt), retry.cannotPostBackoffMs ?? CANNOT_POST_BACKOFF_MS);
  let retryAt = '';
  const alert: AlertInput = {
    source: 'mode', severity: 'warning', fingerprint: `mode-announce-${id}`,
    title: `Request #${id}'s outcome could not be posted in its Slack thread: Slack refused this process's token (${error}); left pending for a process that can post, or until the token is fixed`,
    details: { requestId: id, status: request.status, channel, threadTs, error, attempt, outcome: request.outcome },
  };
  const recorded = await recordIfOwned(ctx, where, 'failure', async (tx, at) => {
    retryAt = new Date(at.getTime() + waitMs).toISOString();
    const [told] = await execute<{ told: boolean }>(tx, sql`select exists (select 1 from mode_change_events where request_id = ${id}
      and kind = 'announce_pending' and details->>'cannotPost' = 'true') as told`);
    await appendEvent(tx, { requestId: id, at, kind: 'announce_pending', actor: 'system', details: { attempt, error, retryAt, cannotPost: true } });
    return told?.told ? undefined : storeWithin(ctx, tx, alert);
  });
  if (recorded) ctx.logger.error({ requestId: id, attempt, channel, threadTs, error, retryAt }, `could not post request #${id}'s outcome in its Slack thread: Slack refused this process's token (${error}); left pending for a process that can post, next try at ${retryAt}`);
}
