// Owns posting an incident's thread (its checklist with buttons) exactly once, whichever process
// killed: the bot's own kill posts at once; a kill from the terminal (`ctb kill`, no Slack there) is
// posted by the running bot when its halt watcher sees the open incident without a thread. The
// incident row is claimed (slack_ts set) before posting, so two replicas never both post. A claim
// carries its time: one left by a process that died while posting is taken over after CLAIM_LEASE_MS,
// so a crash mid-post cannot leave an incident without its thread.
import type { Clock } from '../../clock.js';
import type { Db } from '../../db/client.js';
import {
  claimIncidentThread, latestUnpostedOpenIncidentId, releaseIncidentThreadClaim, setIncidentThread, THREAD_CLAIM_PREFIX,
} from '../../db/queries/kill-incidents.js';
import type { Logger } from '../../logger.js';
import { checklistOf } from './persist-kill.js';
import type { IncidentPoster } from './runtime.js';

export type { IncidentPoster };

/** How long a claim protects a post in progress (Slack's own timeouts are far shorter). */
export const CLAIM_LEASE_MS = 2 * 60_000;

/** Posting a thread: the incident row (claimed, then the thread's place), the clock for the claim's time, the log. */
export interface AnnounceDeps {
  db: Db;
  logger: Logger;
  clock: Clock;
}

/** Posts the incident's thread unless it has one (or another process is posting it). True when posted here. */
export async function announceIncident(ctx: AnnounceDeps, incidentId: number, poster: IncidentPoster): Promise<boolean> {
  const now = ctx.clock.now();
  const CLAIMED = `${THREAD_CLAIM_PREFIX}${now.getTime()}`;
  // No thread yet, or a claim older than the lease (its poster died).
  const claimed = await claimIncidentThread(ctx.db, incidentId, { claim: CLAIMED, now, leaseMs: CLAIM_LEASE_MS });
  if (!claimed) return false;
  try {
    const posted = await poster(claimed, await checklistOf(ctx.db, incidentId));
    await setIncidentThread(ctx.db, incidentId, posted);
    return true;
  } catch (err) {
    // Give the claim back: the next poll of the halt watcher tries again.
    await releaseIncidentThreadClaim(ctx.db, incidentId, CLAIMED)
      .catch((releaseErr: unknown) => ctx.logger.warn({ err: releaseErr }, 'could not release the incident thread claim'));
    throw err;
  }
}

/** The open incident still without a thread (a kill from the terminal), posted now. */
export async function announceUnposted(ctx: AnnounceDeps, poster: IncidentPoster): Promise<boolean> {
  const open = await latestUnpostedOpenIncidentId(ctx.db, ctx.clock.now(), CLAIM_LEASE_MS);
  return open !== undefined ? announceIncident(ctx, open, poster) : false;
}
