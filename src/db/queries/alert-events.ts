// Owns reading one alert event by id (the event an email names, its details, stored as an id when
// the mail is queued and read when it is rendered), and marking one whose write committed late.
import { eq, sql } from 'drizzle-orm';
import { execute, type Db } from '../client.js';
import { OUTAGE_KEY } from '../../domain/alert-outage.js';
import { bumpAlertGroupVersion } from './alert-groups.js';
import { requestSync } from './alert-outbox.js';
import { alertEvents, type AlertEvent } from '../schema/alerts.js';

export async function alertEventById(db: Db, id: number): Promise<AlertEvent | undefined> {
  const [row] = await db.select().from(alertEvents).where(eq(alertEvents.id, id)).limit(1);
  return row;
}

/**
 * An event whose write hung and committed late (alerts/sink.ts): its details get the late mark, once
 * (`mark` is the object stored under OUTAGE_KEY), and its group is refreshed in Slack (version bumped,
 * a sync queued), so a parent or thread line already shown without the mark is brought up to date.
 * Returns its group and details as marked; null when the event already carries a mark (or is gone).
 */
export async function markEventStoredLate(db: Db, input: { eventId: number; mark: object; now: Date }): Promise<{ groupId: number; details: Record<string, unknown> } | null> {
  return db.transaction(async (tx) => {
    const [row] = await execute<{ group_id: number; details: Record<string, unknown> }>(tx, sql`
      update alert_events set details = details || jsonb_build_object(${OUTAGE_KEY}::text, ${JSON.stringify(input.mark)}::jsonb)
      where id = ${input.eventId} and details -> ${OUTAGE_KEY}::text is null
      returning group_id, details`);
    if (!row) return null;
    const groupId = Number(row.group_id);
    await bumpAlertGroupVersion(tx, groupId);
    await requestSync(tx, { groupId, now: input.now });
    return { groupId, details: row.details };
  });
}

/**
 * An event's details as last committed, read with a share lock held to the caller's commit: a late
 * mark being written meanwhile is waited for (and seen), and one written after waits for the caller.
 */
export async function eventDetailsLocked(db: Db, eventId: number): Promise<Record<string, unknown> | undefined> {
  const [row] = await execute<{ details: Record<string, unknown> }>(db, sql`select details from alert_events where id = ${eventId} for share`);
  return row?.details;
}

/** The events among `ids` as last committed, share-locked to the caller's commit (see eventDetailsLocked). */
export async function eventsDetailsLocked(db: Db, ids: number[]): Promise<Array<{ id: number; details: Record<string, unknown> }>> {
  if (ids.length === 0) return [];
  const rows = await execute<{ id: string | number; details: Record<string, unknown> }>(db, sql`
    select id, details from alert_events where id in (${sql.join(ids.map((id) => sql`${id}`), sql`, `)}) order by id for share`);
  return rows.map((r) => ({ id: Number(r.id), details: r.details }));
}

/**
 * The channel of the thread where Slack has already shown the event: reported (its id at most the
 * group's reported_event_id) and not the event that opened the group (the parent's, which a refresh
 * re-renders). Null when it has not been shown there (or the group has no Slack message).
 */
export async function threadShowing(db: Db, input: { groupId: number; eventId: number }): Promise<string | null> {
  const [row] = await execute<{ channel: string | null }>(db, sql`
    select g.slack_channel as channel from alert_groups g
    where g.id = ${input.groupId} and g.slack_ts is not null and ${input.eventId} <= g.reported_event_id
      and ${input.eventId} <> (select min(e.id) from alert_events e where e.group_id = g.id)`);
  return row?.channel ?? null;
}
