// Owns closing requests that time has overtaken: a request still waiting for approvals at its
// expiry, and an approved one whose switch never finished (the process stopped mid-transition).
// Runs from a job and before each new request; the row's timestamps, not a timer, are the record.
// Both are judged on the database's clock, which the request's times are written on (every process
// reads the same one), and the moment a request is closed is that clock's too. Each closing marks its
// announcement pending in its own transaction, and the announcements pending are made after (also
// those of a closing whose process stopped, or whose database went away, before announcing it).
import type { Db } from '../../db/client.js';
import type { ModeChangeRequest } from '../../db/schema/index.js';
import { ANNOUNCE_PENDING, announcePending, type AnnouncePendingDeps } from './announce-pending.js';
import type { LiveSwitchPorts } from './ports.js';
import { APPROVALS_NEEDED } from './records.js';
import { databaseNow } from '../../db/queries/database-clock.js';
import { appendEvent, lockRequest, overdueRequestIds, transition } from '../../db/queries/mode-change.js';

/** Longer than any audit + snapshot takes; an approved request older than this was interrupted. */
export const SWITCH_STALL_MS = 15 * 60_000;

/**
 * Closes a `requested` request whose expiry the database's now() (`now`, in the caller's transaction,
 * which holds the request's lock) has reached: the closed row, or undefined when it is not due.
 */
export async function expireIfDue(tx: Db, request: ModeChangeRequest, now: Date, details: Record<string, unknown>): Promise<ModeChangeRequest | undefined> {
  if (request.status !== 'requested' || now.getTime() < request.expiresAt.getTime()) return undefined;
  const expired = await transition(tx, request.id, ['requested'], 'expired', {
    decidedAt: now, decidedBy: 'system', outcome: `expired at ${request.expiresAt.toISOString()} without ${APPROVALS_NEEDED} approvals`,
  });
  if (expired) await appendEvent(tx, { requestId: request.id, at: now, kind: 'expired', actor: 'system', details: { expiresAt: request.expiresAt.toISOString(), ...details } });
  return expired;
}

/** What closing overdue requests needs: the requests (and the database's clock) and the announcer's alerts. */
export type ExpireRequestsDeps = AnnouncePendingDeps;

export async function expireOverdueRequests(ctx: ExpireRequestsDeps, ports: LiveSwitchPorts): Promise<ModeChangeRequest[]> {
  const { expired: candidates, stalled } = await overdueRequestIds(ctx.db, { stallMs: SWITCH_STALL_MS });

  const closed: ModeChangeRequest[] = [];
  for (const id of candidates) {
    const row = await ctx.db.transaction(async (tx) => {
      const request = await lockRequest(tx, { id });
      const now = await databaseNow(tx);
      return request ? expireIfDue(tx, request, now, ANNOUNCE_PENDING) : undefined;
    });
    if (row) closed.push(row);
  }
  for (const id of stalled) {
    const row = await ctx.db.transaction(async (tx) => {
      const request = await lockRequest(tx, { id });
      const now = await databaseNow(tx);
      if (!request?.approvedAt || request.approvedAt.getTime() > now.getTime() - SWITCH_STALL_MS) return undefined;
      const failed = await transition(tx, id, ['approved'], 'failed', {
        decidedAt: now, decidedBy: 'system', outcome: 'the switch was interrupted (the process stopped during the transition); the mode did not change',
      });
      if (failed) await appendEvent(tx, { requestId: id, at: now, kind: 'failed', actor: 'system', details: { reason: 'interrupted', ...ANNOUNCE_PENDING } });
      return failed;
    });
    if (row) closed.push(row);
  }
  await announcePending(ctx, ports);
  return closed;
}
