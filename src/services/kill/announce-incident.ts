// Owns posting an incident's thread (its checklist with buttons) exactly once, whichever process
// killed: the bot's own kill posts at once; a kill from the terminal (`ctb kill`, no Slack there) is
// posted by the running bot when its halt watcher sees the open incident without a thread. The
// incident row is claimed (slack_ts set) before posting, so two replicas never both post. A claim
// carries its time: one left by a process that died while posting is taken over after CLAIM_LEASE_MS,
// so a crash mid-post cannot leave an incident without its thread.
import { and, desc, eq, isNull, or, sql, type SQL } from 'drizzle-orm';
import type { AppContext } from '../../app/context.js';
import { incidents } from '../../db/schema/index.js';
import { checklistOf } from './persist-kill.js';
import type { IncidentPoster } from './runtime.js';

export type { IncidentPoster };

const CLAIM_PREFIX = 'posting:';
/** How long a claim protects a post in progress (Slack's own timeouts are far shorter). */
export const CLAIM_LEASE_MS = 2 * 60_000;

/** No thread yet, or a claim older than the lease (its poster died). */
function unposted(now: Date): SQL {
  return or(
    isNull(incidents.slackTs),
    sql`(${incidents.slackTs} like ${`${CLAIM_PREFIX}%`} and split_part(${incidents.slackTs}, ':', 2)::bigint < ${now.getTime() - CLAIM_LEASE_MS})`,
  )!;
}

/** Posts the incident's thread unless it has one (or another process is posting it). True when posted here. */
export async function announceIncident(ctx: Pick<AppContext, 'db' | 'logger' | 'clock'>, incidentId: number, poster: IncidentPoster): Promise<boolean> {
  const now = ctx.clock.now();
  const CLAIMED = `${CLAIM_PREFIX}${now.getTime()}`;
  const [claimed] = await ctx.db.update(incidents).set({ slackTs: CLAIMED })
    .where(and(eq(incidents.id, incidentId), unposted(now))).returning();
  if (!claimed) return false;
  try {
    const posted = await poster(claimed, await checklistOf(ctx.db, incidentId));
    await ctx.db.update(incidents).set({ slackChannel: posted.channel, slackTs: posted.ts }).where(eq(incidents.id, incidentId));
    return true;
  } catch (err) {
    // Give the claim back: the next poll of the halt watcher tries again.
    await ctx.db.update(incidents).set({ slackTs: null }).where(and(eq(incidents.id, incidentId), eq(incidents.slackTs, CLAIMED)))
      .catch((releaseErr: unknown) => ctx.logger.warn({ err: releaseErr }, 'could not release the incident thread claim'));
    throw err;
  }
}

/** The open incident still without a thread (a kill from the terminal), posted now. */
export async function announceUnposted(ctx: Pick<AppContext, 'db' | 'logger' | 'clock'>, poster: IncidentPoster): Promise<boolean> {
  const [open] = await ctx.db.select({ id: incidents.id }).from(incidents)
    .where(and(eq(incidents.status, 'open'), unposted(ctx.clock.now()))).orderBy(desc(incidents.id)).limit(1);
  return open ? announceIncident(ctx, open.id, poster) : false;
}
