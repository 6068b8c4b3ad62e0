// Owns announcing the requests the system closed (expired, failed) until each is delivered, whatever
// stops the process or Slack between the closing and its announcement: the closing's event marks the
// announcement pending in the closing's own transaction; an announcer claims it under the request's
// row lock (an `announcing` event naming the attempt; the first claim stores the request's alert with
// it), posts the outcome in the request's thread, and records what Slack answered: `announced`
// (delivered), `announce_pending` (not delivered: the error, and when to try again — Slack's
// Retry-After, else a backoff growing with the attempts) or `announce_failed` (Slack refused it for
// good: the bot is not in the channel, the token is refused; logged at error and raised as an alert,
// never tried again). A claim left by a process that stopped before recording goes stale after
// ANNOUNCE_CLAIM_STALE_MS and is taken over; every attempt after the first reads the thread first
// (the reply carries the request's marker), so a reply an earlier attempt posted without recording it
// is recorded delivered, not posted twice. Two processes never announce one request at once.
import type { Db } from '../../db/client.js';
import type { ModeChangeRequest } from '../../db/schema/index.js';
import { databaseNow } from '../../db/queries/database-clock.js';
import { announceAttempts, appendEvent, lockRequest, pendingAnnouncements } from '../../db/queries/mode-change.js';
import { isPermanentFailure, retryAfterOf } from '../../notifications/notification.js';
import type { AlertInput } from '../../alerts/types.js';
import { closedAlert, outcomeOf, type AnnounceDeps } from './announce.js';
import type { LiveSwitchPorts, ThreadReply } from './ports.js';

/** Longer than an announcement takes (a Slack look and post, an alert stored): a claim older than this was left by a stopped process. */
export const ANNOUNCE_CLAIM_STALE_MS = 2 * 60_000;

/** What a closing event carries while its announcement is pending. */
export const ANNOUNCE_PENDING = { announce: 'pending' } as const;

/** When an announcement whose attempt stopped or failed is tried again. */
export interface AnnounceRetry {
  claimStaleMs: number;
  /** The wait after the `attempt`-th failure when Slack named none (its Retry-After is waited when it did). */
  backoffMs(attempt: number): number;
}

/** 30 s after the first failure, doubling to at most 30 minutes: the sweep runs every 30 s. */
export const ANNOUNCE_RETRY: AnnounceRetry = {
  claimStaleMs: ANNOUNCE_CLAIM_STALE_MS,
  backoffMs: (attempt) => Math.min(30 * 60_000, 30_000 * 2 ** Math.max(0, attempt - 1)),
};

export type AnnouncePendingDeps = AnnounceDeps & { db: Db; announceRetry?: AnnounceRetry };

interface Claim {
  request: ModeChangeRequest;
  attempt: number;
}

/** Announces every closing whose announcement is due; returns the requests delivered now. */
export async function announcePending(ctx: AnnouncePendingDeps, ports: LiveSwitchPorts): Promise<ModeChangeRequest[]> {
  const retry = ctx.announceRetry ?? ANNOUNCE_RETRY;
  const announced: ModeChangeRequest[] = [];
  for (const id of await pendingAnnouncements(ctx.db, { claimStaleMs: retry.claimStaleMs })) {
    const claim = await claimAnnouncement(ctx, id, retry, ports.announcer.available);
    if (claim && (await announceOne(ctx, ports, claim, retry))) announced.push(claim.request);
  }
  return announced;
}

/** Stores `alert` in `tx` when the sink can (then counted once committed), else after the commit. */
async function storeWithin(ctx: AnnouncePendingDeps, tx: Db, alert: AlertInput): Promise<() => Promise<void>> {
  if (ctx.alerts.raiseWithin) {
    const stored = await ctx.alerts.raiseWithin(tx, alert);
    return async () => stored();
  }
  return () => ctx.alerts.raise(alert).catch((err: unknown) => ctx.logger.error({ err, alert: alert.fingerprint }, `could not raise the alert "${alert.title}"`));
}

async function claimAnnouncement(ctx: AnnouncePendingDeps, id: number, retry: AnnounceRetry, canPost: boolean): Promise<Claim | undefined> {
  let afterCommit: (() => Promise<void>) | undefined;
  const claim = await ctx.db.transaction(async (tx) => {
    const request = await lockRequest(tx, { id });
    // Another process may have claimed, announced or failed it since the read above.
    if (!request || (await pendingAnnouncements(tx, { claimStaleMs: retry.claimStaleMs, ids: [id] })).length === 0) return undefined;
    // A process that cannot post in Slack (not configured here) leaves a thread's reply to one that can.
    if (request.slackChannel && request.slackTs && !canPost) return undefined;
    const attempt = (await announceAttempts(tx, id)) + 1;
    await appendEvent(tx, { requestId: id, at: await databaseNow(tx), kind: 'announcing', actor: 'system', details: { attempt } });
    // The alert goes with the first claim, once: later attempts retry only the thread's reply.
    if (attempt === 1) afterCommit = await storeWithin(ctx, tx, closedAlert(request));
    return { request, attempt };
  });
  if (claim) await afterCommit?.();
  return claim;
}

/** One attempt: posted (or found already posted) and recorded; or its failure recorded. True when delivered. */
async function announceOne(ctx: AnnouncePendingDeps, ports: LiveSwitchPorts, { request, attempt }: Claim, retry: AnnounceRetry): Promise<boolean> {
  const id = request.id;
  const { slackChannel: channel, slackTs: threadTs } = request;
  if (!channel || !threadTs) {
    // Never posted in Slack: no thread to reply in; its alert is all there is to tell.
    await appendEvent(ctx.db, { requestId: id, at: await databaseNow(ctx.db), kind: 'announced', actor: 'system', details: { attempt, thread: null } });
    return true;
  }
  let reply: ThreadReply | undefined;
  try {
    const view = outcomeOf(request);
    if (ports.announcer.announceInThread) reply = await ports.announcer.announceInThread(channel, threadTs, view, { checkSent: attempt > 1 });
    else await ports.announcer.postInThread(channel, threadTs, view);
  } catch (err) {
    await recordFailure(ctx, { request, attempt, channel, threadTs }, err, retry);
    return false;
  }
  await appendEvent(ctx.db, {
    requestId: id, at: await databaseNow(ctx.db), kind: 'announced', actor: 'system',
    details: { attempt, channel, ...(reply ? { ts: reply.ts, found: reply.found } : {}) },
  });
  if (reply?.found) ctx.logger.info({ requestId: id, attempt, ts: reply.ts }, `request #${id}'s outcome was already in its thread (an earlier attempt posted it): recorded, not posted again`);
  return true;
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
    const afterCommit = await ctx.db.transaction(async (tx) => {
      await appendEvent(tx, { requestId: id, at: await databaseNow(tx), kind: 'announce_failed', actor: 'system', details: { attempt, error, permanent: true } });
      return storeWithin(ctx, tx, alert);
    });
    await afterCommit();
    ctx.logger.error(fields, `request #${id}'s outcome could not be posted in its Slack thread and trying again cannot help (${error}); recorded failed, not retried`);
    return;
  }
  const retryAfterMs = retryAfterOf(err);
  const waitMs = retryAfterMs ?? retry.backoffMs(attempt);
  const at = await databaseNow(ctx.db);
  const retryAt = new Date(at.getTime() + waitMs).toISOString();
  await appendEvent(ctx.db, {
    requestId: id, at, kind: 'announce_pending', actor: 'system',
    details: { attempt, error, retryAt, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) },
  });
  ctx.logger.warn({ ...fields, retryAt }, `could not post request #${id}'s outcome in its Slack thread (${error}); still pending, next try at ${retryAt}`);
}
