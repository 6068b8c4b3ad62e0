// Owns announcing the requests the system closed (expired, failed) once each, whatever stops the
// process between the closing and its announcement: the closing's event marks the announcement
// pending in the closing's own transaction, an announcer claims it (an `announcing` event), announces,
// and records it `announced`. A claim left by a process that stopped before announcing goes stale
// after ANNOUNCE_CLAIM_STALE_MS and is taken over; two processes never announce one request at once
// (the claim is taken under the request's row lock).
import type { Db } from '../../db/client.js';
import type { ModeChangeRequest } from '../../db/schema/index.js';
import { databaseNow } from '../../db/queries/database-clock.js';
import { appendEvent, lockRequest, pendingAnnouncements } from '../../db/queries/mode-change.js';
import { announceClosed, type AnnounceDeps } from './announce.js';
import type { LiveSwitchPorts } from './ports.js';

/** Longer than an announcement takes (a Slack post, an alert stored): a claim older than this was left by a stopped process. */
export const ANNOUNCE_CLAIM_STALE_MS = 2 * 60_000;

/** What a closing event carries while its announcement is pending. */
export const ANNOUNCE_PENDING = { announce: 'pending' } as const;

/** Announces every closing whose announcement is pending; returns the requests announced. */
export async function announcePending(ctx: AnnounceDeps & { db: Db }, ports: LiveSwitchPorts): Promise<ModeChangeRequest[]> {
  const announced: ModeChangeRequest[] = [];
  for (const id of await pendingAnnouncements(ctx.db, { claimStaleMs: ANNOUNCE_CLAIM_STALE_MS })) {
    const claimed = await ctx.db.transaction(async (tx) => {
      const request = await lockRequest(tx, { id });
      // Another process may have claimed or announced it since the read above.
      if (!request || (await pendingAnnouncements(tx, { claimStaleMs: ANNOUNCE_CLAIM_STALE_MS, ids: [id] })).length === 0) return undefined;
      await appendEvent(tx, { requestId: id, at: await databaseNow(tx), kind: 'announcing', actor: 'system' });
      return request;
    });
    if (!claimed) continue;
    await announceClosed(ctx, ports, claimed);
    await appendEvent(ctx.db, { requestId: id, at: await databaseNow(ctx.db), kind: 'announced', actor: 'system' });
    announced.push(claimed);
  }
  return announced;
}
