// Owns the SQL on one alert group: read it and its events, lock it for a person's action, record an
// acknowledge, resolve or silence, bump its version (what tells the delivery worker to refresh the
// parent message), and record what Slack shows of it after a sync.
import { and, desc, eq, sql } from 'drizzle-orm';
import { execute, type Db } from '../client.js';
import { executePrepared } from '../prepared.js';
import { alertEvents, alertGroups, type AlertEvent, type AlertGroup } from '../schema/alerts.js';

export async function alertGroupById(db: Db, id: number): Promise<AlertGroup | undefined> {
  const [row] = await db.select().from(alertGroups).where(eq(alertGroups.id, id)).limit(1);
  return row;
}

export async function latestAlertEvent(db: Db, groupId: number): Promise<AlertEvent | undefined> {
  const [row] = await db.select().from(alertEvents).where(eq(alertEvents.groupId, groupId)).orderBy(desc(alertEvents.id)).limit(1);
  return row;
}

/** The group's latest event of this severity (the one a page at the group's severity is for). */
export async function latestAlertEventOf(db: Db, groupId: number, severity: AlertEvent['severity']): Promise<AlertEvent | undefined> {
  const [row] = await db.select().from(alertEvents).where(and(eq(alertEvents.groupId, groupId), eq(alertEvents.severity, severity))).orderBy(desc(alertEvents.id)).limit(1);
  return row;
}

/** The event that opened the group (the first stored into it). */
export async function firstAlertEvent(db: Db, groupId: number): Promise<AlertEvent | undefined> {
  const [row] = await db.select().from(alertEvents).where(eq(alertEvents.groupId, groupId)).orderBy(alertEvents.id).limit(1);
  return row;
}

/** The live (not resolved) group with this fingerprint: there is at most one. */
export async function liveAlertGroupId(db: Db, fingerprint: string): Promise<number | null> {
  const [row] = await execute<{ id: number }>(db, sql`select id from alert_groups where fingerprint = ${fingerprint} and status <> 'resolved' limit 1`);
  return row ? Number(row.id) : null;
}

/** Holds the group's row for the rest of the transaction: actions on one group run one after another. */
export async function lockAlertGroup(db: Db, id: number): Promise<void> {
  await execute(db, sql`select id from alert_groups where id = ${id} for update`);
}

/**
 * A new group's Slack parent is the message already sent for its first alert without the database
 * (alerts/direct-lane.ts): that message is brought up to date in place (chat.update, with the
 * buttons), never posted a second time, and that event counts as shown. A group that already had
 * a parent keeps it.
 */
export async function adoptDirectMessage(db: Db, input: { groupId: number; eventId: number; channel: string; ts: string }): Promise<boolean> {
  const rows = await execute<{ id: number }>(db, sql`
    update alert_groups set slack_channel = ${input.channel}, slack_ts = ${input.ts}, reported_event_id = ${input.eventId}
    where id = ${input.groupId} and slack_ts is null
    returning id`);
  return rows.length > 0;
}

export async function bumpAlertGroupVersion(db: Db, id: number): Promise<void> {
  await execute(db, sql`update alert_groups set version = version + 1 where id = ${id}`);
}

export async function markAlertAcknowledged(db: Db, input: { id: number; actor: string; at: Date }): Promise<void> {
  await execute(db, sql`update alert_groups set status = 'acknowledged', acknowledged_by = ${input.actor},
    acknowledged_at = ${input.at.toISOString()}::timestamptz where id = ${input.id}`);
}

export async function markAlertResolved(db: Db, input: { id: number; actor: string; at: Date }): Promise<void> {
  await execute(db, sql`update alert_groups set status = 'resolved', resolved_by = ${input.actor},
    resolved_at = ${input.at.toISOString()}::timestamptz where id = ${input.id}`);
}

/**
 * Silences the group for `forMs` from the database's now(): the clock every replica judges "still
 * silenced" by (escalation, the outbox's stale check, the lists), whatever the silencer's clock reads.
 * Returns the silence's end.
 */
export async function silenceAlertGroup(db: Db, input: { id: number; actor: string; forMs: number }): Promise<Date> {
  const [row] = await execute<{ silenced_until: string | Date }>(db, sql`update alert_groups
    set silenced_until = now() + ${Math.round(input.forMs)} * interval '1 millisecond', silenced_by = ${input.actor}
    where id = ${input.id} returning silenced_until`);
  return new Date(row!.silenced_until);
}

export async function maxAlertEventId(db: Db, groupId: number): Promise<number> {
  const [row] = await execute<{ max: string | number | null }>(db, sql`select max(id) as max from alert_events where group_id = ${groupId}`);
  return Number(row?.max ?? 0);
}

/** The group's events in (afterId, upToId]: the newest `limit` of them, oldest first, and how many there are. */
export async function alertEventsBetween(
  db: Db,
  input: { groupId: number; afterId: number; upToId: number; limit: number },
): Promise<{ events: AlertEvent[]; total: number }> {
  const rows = await execute<AlertEvent>(db, sql`
    select id, group_id as "groupId", at, source, severity, title, details from alert_events
    where group_id = ${input.groupId} and id > ${input.afterId} and id <= ${input.upToId}
    order by id desc limit ${input.limit}`);
  const [countRow] = await execute<{ n: number }>(db, sql`
    select count(*)::int as n from alert_events where group_id = ${input.groupId} and id > ${input.afterId} and id <= ${input.upToId}`);
  const events = rows.reverse().map((e) => ({ ...e, at: new Date(e.at), details: e.details ?? {} }));
  return { events, total: countRow?.n ?? rows.length };
}

/**
 * Records what Slack now shows of the group (never moving backwards) and locks its row; returns
 * whether it is still behind: events newer than those reported, or a version not yet shown.
 * Both statements are prepared: writers of this group wait from here to the commit.
 */
export async function recordGroupReported(
  db: Db,
  input: { id: number; slackTs: string | null; channel: string; reportedEventId: number; reportedVersion: number },
): Promise<{ behind: boolean }> {
  const [after] = await executePrepared<{ version: number; reported_version: number; reported_event_id: string | number }>(db, sql`
    update alert_groups set
      slack_ts = coalesce(slack_ts, ${input.slackTs}::text),
      slack_channel = coalesce(slack_channel, ${input.channel}::text),
      reported_event_id = greatest(reported_event_id, ${input.reportedEventId}),
      reported_version = greatest(reported_version, ${input.reportedVersion})
    where id = ${input.id}
    returning version, reported_version, reported_event_id`);
  const [newer] = await executePrepared<{ n: number }>(db, sql`
    select count(*)::int as n from alert_events where group_id = ${input.id} and id > ${Number(after!.reported_event_id)}`);
  return { behind: (newer?.n ?? 0) > 0 || after!.version > after!.reported_version };
}
