// Owns bringing one alert group's Slack presence up to date (as notifications src/slack renders), one Slack call per step (the lane
// allows one message a second): post the parent; or post the repeats since the last reply into the
// thread (many repeats become one reply listing the latest, so a storm cannot outrun the channel's
// rate limit — every event stays in alert_events and the parent's count is exact); or chat.update
// the parent's count and status. The group row is updated (and so locked) after the call; a raise
// that commits before that is seen and keeps the delivery pending, one after it queues a new one.
// From that update to the commit, writers of this group wait: those statements are prepared (one
// round trip each), and the worker records the outcome the same way.
import { sql } from 'drizzle-orm';
import { execute, type Db } from '../db/client.js';
import { executePrepared } from '../db/prepared.js';
import type { AlertDelivery, AlertEvent } from '../db/schema/alerts.js';
import type { AlertNotifier } from './notifier.js';

export type SyncOutcome =
  | { kind: 'sent'; result: Record<string, unknown>; keepPending?: boolean; usedSlot: boolean }
  | { kind: 'noop' };

type Action = 'parent' | 'thread' | 'update' | 'absorb' | 'none';

export async function syncGroup(input: { db: Db; notifier: AlertNotifier; delivery: AlertDelivery; now: Date }): Promise<SyncOutcome> {
  const { db, notifier, delivery, now } = input;
  const group = await db.query.alertGroups.findFirst({ where: (g, { eq }) => eq(g.id, delivery.groupId) });
  if (!group) return { kind: 'noop' };
  const [maxRow] = await execute<{ max: string | number | null }>(db, sql`select max(id) as max from alert_events where group_id = ${group.id}`);
  const maxEvent = Number(maxRow?.max ?? 0);
  const channel = group.slackChannel ?? delivery.target;
  const silenced = group.silencedUntil !== null && group.silencedUntil > now;
  const hasNew = maxEvent > group.reportedEventId;
  const stale = group.version > group.reportedVersion;
  const lastAction = (delivery.result as { lastAction?: Action } | null)?.lastAction;

  let action: Action;
  let ts = group.slackTs;
  let reportedEvent = group.reportedEventId;
  let reportedVersion = group.reportedVersion;
  if (!group.slackTs) {
    const latest = await latestEvent(db, group.id);
    const posted = await notifier.notify(db, { kind: 'alert_raised', channel, group, latest, now });
    action = 'parent';
    ts = posted.ts;
    reportedEvent = maxEvent;
    reportedVersion = group.version;
  } else if (hasNew && silenced) {
    action = 'absorb'; // silenced: repeats are counted on the parent but not posted into the thread
    reportedEvent = maxEvent;
  } else if (hasNew && !(stale && lastAction === 'thread')) {
    const events = await execute<AlertEvent>(db, sql`
      select id, group_id as "groupId", at, source, severity, title, details from alert_events
      where group_id = ${group.id} and id > ${group.reportedEventId} and id <= ${maxEvent}
      order by id desc limit 5`);
    const [countRow] = await execute<{ n: number }>(db, sql`
      select count(*)::int as n from alert_events where group_id = ${group.id} and id > ${group.reportedEventId} and id <= ${maxEvent}`);
    const normalised = events.reverse().map((e) => ({ ...e, at: new Date(e.at), details: e.details ?? {} }));
    await notifier.notify(db, { kind: 'alert_repeated', channel, threadTs: group.slackTs, events: normalised, total: countRow?.n ?? events.length });
    action = 'thread';
    reportedEvent = maxEvent;
  } else if (stale) {
    const latest = await latestEvent(db, group.id);
    await notifier.notify(db, { kind: 'alert_updated', channel, ts: group.slackTs, group, latest, now });
    action = 'update';
    reportedVersion = group.version;
  } else {
    action = 'none'; // still lock the group below: a raise racing this check must not be missed
  }

  const [after] = await executePrepared<{ version: number; reported_version: number; reported_event_id: string | number }>(db, sql`
    update alert_groups set
      slack_ts = coalesce(slack_ts, ${ts}::text),
      slack_channel = coalesce(slack_channel, ${channel}::text),
      reported_event_id = greatest(reported_event_id, ${reportedEvent}),
      reported_version = greatest(reported_version, ${reportedVersion})
    where id = ${group.id}
    returning version, reported_version, reported_event_id`);
  const [newer] = await executePrepared<{ n: number }>(db, sql`
    select count(*)::int as n from alert_events where group_id = ${group.id} and id > ${Number(after!.reported_event_id)}`);
  const behind = (newer?.n ?? 0) > 0 || after!.version > after!.reported_version;
  return {
    kind: 'sent',
    result: { lastAction: action, ts, reportedEvent, reportedVersion },
    keepPending: behind,
    usedSlot: action !== 'absorb' && action !== 'none',
  };
}

async function latestEvent(db: Db, groupId: number): Promise<AlertEvent | undefined> {
  return db.query.alertEvents.findFirst({ where: (e, { eq }) => eq(e.groupId, groupId), orderBy: (e, { desc }) => [desc(e.id)] });
}
