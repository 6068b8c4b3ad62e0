// Owns what a page's delivery starts (escalation.ts queues the page): the "Paged …" line in the
// alert's thread, said only once Slack took the page, and the step's ACK deadline, counted from
// that moment rather than from when the page was queued (a Slack outage may hold it for minutes).
import type { Db } from '../db/client.js';
import { restartAckDeadline } from '../db/queries/alert-escalations.js';
import { alertGroupById } from '../db/queries/alert-groups.js';
import { enqueueThreadNote } from '../db/queries/alert-outbox.js';
import type { AlertDelivery } from '../db/schema/alerts.js';

export async function afterPageDelivered(db: Db, input: { delivery: AlertDelivery; now: Date }): Promise<void> {
  const { payload, groupId } = input.delivery;
  if (typeof payload.pagedNote !== 'string') return; // a page queued before this was its job
  const group = await alertGroupById(db, groupId);
  if (group) await enqueueThreadNote(db, { groupId, channel: group.slackChannel, now: input.now, relevance: 'until_ack', text: payload.pagedNote });
  const round = Number(payload.round);
  const step = Number(payload.step);
  const slaMs = Number(payload.slaMs);
  if (Number.isInteger(round) && Number.isInteger(step) && Number.isFinite(slaMs)) {
    await restartAckDeadline(db, { groupId, round, step, inMs: slaMs, now: input.now });
  }
}
