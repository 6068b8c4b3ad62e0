// Owns bringing pages up to date when their alert's late mark is written after escalation paged it
// (a write that stalled is marked once it has committed, sink.ts, and escalation may page in between).
// The page names the event it is about (payload.eventId, escalation.ts). When the mark lands, in its
// transaction: a page still queued has the LATE line added to its text; one already sent gets a line
// under it in the person's DM (a page cannot be edited into a different page, it is followed up like an
// acknowledgement). A page a worker is sending at that moment is skipped by the mark's transaction and
// looked at by that worker once it is sent (afterPageSent): it reads the event under a share lock, so a
// mark being written is waited for, and a mark written later waits for the worker's commit and then
// finds the page sent. A page an earlier, unanswered try left in Slack before the mark is found there
// rather than posted again: what counts is the text Slack holds, not the queued text the mark rewrote,
// so it is followed up too. Each page is said late exactly once, whichever side sees it.
import type { Db } from '../db/client.js';
import { lockPagesOfEvent, rewritePendingPage } from '../db/queries/alert-deliveries.js';
import { eventDetailsLocked } from '../db/queries/alert-events.js';
import { enqueuePageFollowUp } from '../db/queries/alert-outbox.js';
import type { AlertDelivery } from '../db/schema/alerts.js';
import { pageLateFollowUp, pageLateLine, pageSaysLate } from './render.js';

/** In the mark's transaction, after the event got it: its pages say so (queued) or are followed up (sent). */
export async function latePagesOnMark(tx: Db, input: { groupId: number; eventId: number; details: Record<string, unknown>; now: Date }): Promise<void> {
  for (const page of await lockPagesOfEvent(tx, input)) {
    if (pageSaysLate(page.text)) continue;
    if (page.status === 'pending') {
      await rewritePendingPage(tx, { id: page.id, text: page.text + pageLateLine(input.details) });
    } else if (page.channel && page.ts) {
      await enqueuePageFollowUp(tx, { groupId: input.groupId, page: { channel: page.channel, ts: page.ts }, now: input.now, text: pageLateFollowUp(input.details) });
    }
  }
}

/**
 * In the worker's transaction, once a page is recorded sent: a mark the person's copy lacks is followed
 * up under it. That copy is the text posted now, or the one found in Slack (`foundText`) from a try
 * nobody recorded, which may predate the LATE line the mark added to the queued text.
 */
export async function afterPageSent(tx: Db, input: { delivery: Pick<AlertDelivery, 'groupId' | 'payload'>; result: unknown; now: Date }): Promise<void> {
  const { payload } = input.delivery;
  const where = input.result as { channel?: unknown; ts?: unknown; foundText?: unknown } | null;
  if (typeof payload.eventId !== 'number' || typeof where?.channel !== 'string' || typeof where.ts !== 'string') return;
  const shown = typeof where.foundText === 'string' ? where.foundText : String(payload.text ?? '');
  if (pageSaysLate(shown)) return;
  const text = pageLateFollowUp(await eventDetailsLocked(tx, payload.eventId));
  if (!text) return;
  await enqueuePageFollowUp(tx, { groupId: input.delivery.groupId, page: { channel: where.channel, ts: where.ts }, now: input.now, text });
}
