// Owns queueing in the alert outbox inside the caller's transaction (so a page and the escalation
// step that caused it commit together): single messages (timeline notes, pages by DM, email), the
// one pending refresh of a group's Slack parent, and moving a group's pending work to the front.
import { sql } from 'drizzle-orm';
import { alertDeliveries, type DeliveryKind } from '../schema/alerts.js';
import type { Db } from '../client.js';

type Tx = Pick<Db, 'insert'>;

export const PRIORITY = { note: 3, page: 4, email: 2, action: 8 } as const;

/**
 * How long a queued message makes sense (stored as payload.relevance): a page — a DM, a "Paged …"
 * note, an alert email — only while nobody has acknowledged or resolved the group (`until_ack`, the
 * default for DMs and email); a line about the open incident only until it is resolved
 * (`until_resolved`); a record of what someone did, always (`always`, the default for thread notes).
 * The delivery worker checks it against the group when it is about to send (alert-deliveries.ts).
 */
export type Relevance = 'until_ack' | 'until_resolved' | 'always';

export async function enqueueDelivery(tx: Tx, input: {
  groupId: number;
  kind: Exclude<DeliveryKind, 'slack_sync'>;
  target: string;
  payload: Record<string, unknown>;
  now: Date;
  relevance?: Relevance;
}): Promise<void> {
  const lane = input.kind === 'email' ? 'email' : `slack:${input.target}`;
  const priority = input.kind === 'slack_dm' ? PRIORITY.page : input.kind === 'email' ? PRIORITY.email : PRIORITY.note;
  await tx.insert(alertDeliveries).values({
    groupId: input.groupId,
    kind: input.kind,
    lane,
    target: input.target,
    priority,
    payload: input.relevance ? { ...input.payload, relevance: input.relevance } : input.payload,
    // due at once on the database's clock (what every replica judges "due" by), whatever the writer's
    nextAttemptAt: sql`now()`,
    createdAt: input.now,
  });
}

/** Queues a timeline line in the group's thread (the thread is the incident's story). */
export async function enqueueThreadNote(tx: Tx, input: { groupId: number; channel: string | null; text: string; now: Date; relevance?: Relevance }): Promise<void> {
  if (!input.channel) return;
  await enqueueDelivery(tx, {
    groupId: input.groupId, kind: 'slack_thread_note', target: input.channel, payload: { text: input.text }, now: input.now,
    ...(input.relevance ? { relevance: input.relevance } : {}),
  });
}

/**
 * Queues a line under a page already delivered (in its own thread, in the person's DM): a page
 * cannot be recalled, so what became of its alert follows it there.
 */
export async function enqueuePageFollowUp(tx: Tx, input: { groupId: number; page: { channel: string; ts: string }; text: string; now: Date }): Promise<void> {
  await enqueueDelivery(tx, {
    groupId: input.groupId, kind: 'slack_thread_note', target: input.page.channel, payload: { text: input.text, threadTs: input.page.ts }, now: input.now,
  });
}

/** Makes sure the group's Slack parent/thread will be brought up to date (one pending sync per group). */
export async function requestSync(db: Pick<Db, 'execute'>, input: { groupId: number; now: Date }): Promise<void> {
  const iso = input.now.toISOString();
  await db.execute(sql`
    insert into alert_deliveries (group_id, kind, lane, target, priority, payload, next_attempt_at, created_at)
    select g.id, 'slack_sync', 'slack:' || g.slack_channel, g.slack_channel, 2, '{}'::jsonb, now(), ${iso}::timestamptz
    from alert_groups g where g.id = ${input.groupId} and g.slack_channel is not null
    on conflict (group_id) where kind = 'slack_sync' and status = 'pending' do nothing`);
}

/**
 * Someone pressed a button on this group: its pending thread lines and parent refresh go ahead of
 * any backlog on the channel (an alert storm), so they see their action reflected in seconds. One a
 * worker is sending right now is skipped, not waited for: a parent refresh under way updates the
 * group row before it commits, and that update waits for this action, so waiting here would deadlock
 * (it finds the group changed and stays queued, due at once).
 */
export async function expediteGroup(db: Pick<Db, 'execute'>, input: { groupId: number }): Promise<void> {
  await db.execute(sql`
    update alert_deliveries set priority = greatest(priority, ${PRIORITY.action})
    where id in (
      select id from alert_deliveries
      where group_id = ${input.groupId} and status = 'pending' and kind in ('slack_sync', 'slack_thread_note')
      for update skip locked)`);
}
