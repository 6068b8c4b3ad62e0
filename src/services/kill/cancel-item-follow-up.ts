// Owns handing a kill's unconfirmed Kraken cancel on together with its incident's cancel item: the
// follow-up request for the bot with the key (follow-up-request.ts), and the cancel_orders item
// marked pending on it — reopened first when an earlier kill of the incident had ticked it (that
// tick no longer holds). Used by the kill that could not confirm (kill.ts) and by the replay of a
// kill saved while the database did not take it (replay-pending.ts), once its halt is written.
import { markChecklistAttempt, reopenChecklistItemRecord } from './checklist-records.js';
import { withDeadline } from './deadline.js';
import { writeFollowUp, type FollowUpDeps, type WrittenFollowUp } from './follow-up-request.js';

export interface CancelItemFollowUp {
  incidentId: number;
  killId: string;
  actor: string;
  reason: string;
  /** Wall-clock start of the kill (ms): the follow-up counts only what was cancelled for it. */
  startedAt: number;
  /** What was not confirmed, said first on the item ("Zero open orders not confirmed within 20 s of the kill"). */
  lead: string;
  /** Which kill reopens the item an earlier one ticked: "a later kill (K2)", "the saved kill K1 of <time>". */
  reopenedBy: string;
}

/** Writes the follow-up and marks the cancel item pending on it (each under the database's deadline; a failure throws). */
export async function followUpOnCancelItem(ctx: FollowUpDeps, p: CancelItemFollowUp): Promise<WrittenFollowUp> {
  const written = await writeFollowUp(ctx, { incidentId: p.incidentId, killId: p.killId, actor: p.actor, reason: p.reason, startedAt: p.startedAt });
  const { requestId, runningBot, who } = written;
  await withDeadline(reopenChecklistItemRecord(ctx, {
    incidentId: p.incidentId, item: 'cancel_orders', outcome: { summary: `Reopened: ${p.reopenedBy} could not confirm zero open orders on every venue.` },
  }), ctx.config.KILL_DB_TIMEOUT, 'the database');
  await withDeadline(markChecklistAttempt(ctx, {
    incidentId: p.incidentId, item: 'cancel_orders', state: 'pending', requestId,
    outcome: { summary: `${p.lead}: ${runningBot ? 'handed on' : 'queued'} as request #${requestId}; ${who}. Its answer shows here; until then orders may remain open on Kraken.`, requestId, runningBot },
  }), ctx.config.KILL_DB_TIMEOUT, 'the database');
  return written;
}
