// Owns bringing one alert group's Slack presence up to date (as notifications src/slack renders), one Slack call per step (the lane
// allows one message a second): post the parent; or post the repeats since the last reply into the
// thread (many repeats become one reply listing the latest, so a storm cannot outrun the channel's
// rate limit — every event stays in alert_events and the parent's count is exact); or chat.update
// the parent's count and status. The group row is updated (and so locked) after the call; a raise
// that commits before that is seen and keeps the delivery pending, one after it queues a new one.
// From that update to the commit, writers of this group wait: those statements are prepared (one
// round trip each), and the worker records the outcome the same way.
import { alertEventsBetween, alertGroupById, latestAlertEvent, maxAlertEventId, recordGroupReported } from '../db/queries/alert-groups.js';
import type { Db } from '../db/client.js';
import { databaseNow } from '../db/queries/database-clock.js';
import type { AlertDelivery } from '../db/schema/alerts.js';
import type { Notifier } from '../notifications/notification.js';
import { afterThreadReply } from './late-thread.js';

export type SyncOutcome =
  | { kind: 'sent'; result: Record<string, unknown>; keepPending?: boolean; usedSlot: boolean }
  | { kind: 'noop' };

type Action = 'parent' | 'thread' | 'update' | 'absorb' | 'none';

export async function syncGroup(input: { db: Db; notifier: Notifier; delivery: AlertDelivery; now: Date }): Promise<SyncOutcome> {
  const { db, notifier, delivery } = input;
  const group = await alertGroupById(db, delivery.groupId);
  if (!group) return { kind: 'noop' };
  // A group that was silenced is judged and shown on the database's clock, which its silence was
  // set on: a replica whose clock runs slow would keep absorbing repeats after the silence ended.
  const now = group.silencedUntil !== null ? await databaseNow(db) : input.now;
  const maxEvent = await maxAlertEventId(db, group.id);
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
    const latest = await latestAlertEvent(db, group.id);
    const posted = await notifier.notify(db, { kind: 'alert_raised', channel, group, latest, now });
    action = 'parent';
    ts = posted.ts;
    reportedEvent = maxEvent;
    reportedVersion = group.version;
  } else if (hasNew && silenced) {
    action = 'absorb'; // silenced: repeats are counted on the parent but not posted into the thread
    reportedEvent = maxEvent;
  } else if (hasNew && !(stale && lastAction === 'thread')) {
    const { events, total } = await alertEventsBetween(db, { groupId: group.id, afterId: group.reportedEventId, upToId: maxEvent, limit: 5 });
    await notifier.notify(db, { kind: 'alert_repeated', channel, threadTs: group.slackTs, events, total });
    // An occurrence listed without its late mark, marked while the reply was on its way: said under it.
    await afterThreadReply(db, { groupId: group.id, channel, shown: events, now: input.now });
    action = 'thread';
    reportedEvent = maxEvent;
  } else if (stale) {
    const latest = await latestAlertEvent(db, group.id);
    await notifier.notify(db, { kind: 'alert_updated', channel, ts: group.slackTs, group, latest, now });
    action = 'update';
    reportedVersion = group.version;
  } else {
    action = 'none'; // still lock the group below: a raise racing this check must not be missed
  }

  const { behind } = await recordGroupReported(db, { id: group.id, slackTs: ts, channel, reportedEventId: reportedEvent, reportedVersion });
  return {
    kind: 'sent',
    result: { lastAction: action, ts, reportedEvent, reportedVersion },
    keepPending: behind,
    usedSlot: action !== 'absorb' && action !== 'none',
  };
}
