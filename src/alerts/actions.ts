// Owns what a person does to an alert group: acknowledge (stops the escalation and lets go of the
// pages still queued), resolve (closes the group: the next alert with its fingerprint opens a new
// thread; queued pages and notes about the open incident are let go), silence for a while (no
// thread noise, no paging: the pages still queued are let go; when it ends on a group still open,
// paging starts again from the first rung). Each is one transaction that first waits for the
// group's messages being sent right now (the send lock, alert-deliveries.ts), so no page goes out
// after it that it made stale, and says in the thread which pages were already on their way; it
// also queues the timeline line and a refresh of the parent message. Repeating an action is
// harmless (Slack retries).
import type { Clock } from '../clock.js';
import { formatDuration } from '../config/duration.js';
import type { Db } from '../db/client.js';
import {
  alertGroupById, bumpAlertGroupVersion, lockAlertGroup, markAlertAcknowledged, markAlertResolved, silenceAlertGroup,
} from '../db/queries/alert-groups.js';
import { cancelStaleDeliveries, waitForGroupSends, type SendUnderWay } from '../db/queries/alert-deliveries.js';
import { silenceGroupEscalation, stopGroupEscalation } from '../db/queries/alert-escalations.js';
import type { AlertGroup } from '../db/schema/alerts.js';
import { AppError } from '../errors.js';
import { enqueueThreadNote, expediteGroup, requestSync } from '../db/queries/alert-outbox.js';
import { who } from './render.js';

export interface AlertActionResult {
  group: AlertGroup;
  /** False when the group was already in that state (a repeated click or a Slack retry). */
  changed: boolean;
}

interface ActionInput {
  db: Db;
  clock: Clock;
  groupId: number;
  actor: string;
}

async function loadGroup(db: Db, groupId: number): Promise<AlertGroup> {
  const group = await alertGroupById(db, groupId);
  if (!group) throw new AppError('usage', 'alert_not_found', `There is no alert group ${groupId}.`, { hint: 'The group number is shown on the alert message.' });
  return group;
}

/** How long an action waits for a page being handed to Slack or SMTP right now before it goes ahead anyway. */
const SEND_WAIT_MS = 10_000;

const pageName = (m: SendUnderWay) => (m.kind === 'email' ? 'the alert email' : `the page to ${who(m.target)}`);

/** The pages (DMs, alert email) that were being sent as the action came: the action could not stop them. */
function alreadyOnTheirWay(underWay: SendUnderWay[]): string {
  const pages = underWay.filter((m) => m.kind === 'slack_dm' || m.kind === 'email');
  const sent = pages.filter((m) => m.outcome === 'sent').map(pageName);
  const unknown = pages.filter((m) => m.outcome === 'unknown').map(pageName);
  let out = '';
  if (sent.length > 0) out += ` Already on its way when this was done, and delivered: ${sent.join(', ')}.`;
  if (unknown.length > 0) {
    out += ` Still being sent when this was done (no answer within ${SEND_WAIT_MS / 1000}s), so it may have been delivered: ${unknown.join(', ')}.`;
  }
  return out;
}

async function transition(
  input: ActionInput,
  apply: (db: Db, group: AlertGroup, now: Date) => Promise<{ changed: boolean; note?: string }>,
): Promise<AlertActionResult> {
  const now = input.clock.now();
  return input.db.transaction(async (db) => {
    const underWay = await waitForGroupSends(db, { groupId: input.groupId, waitMs: SEND_WAIT_MS });
    await lockAlertGroup(db, input.groupId);
    const before = await loadGroup(db, input.groupId);
    const { changed, note } = await apply(db, before, now);
    if (changed) {
      await bumpAlertGroupVersion(db, before.id);
      if (note) await enqueueThreadNote(db, { groupId: before.id, channel: before.slackChannel, text: note + alreadyOnTheirWay(underWay), now });
      await requestSync(db, { groupId: before.id, now });
      await expediteGroup(db, { groupId: before.id });
    }
    return { group: await loadGroup(db, input.groupId), changed };
  });
}

export function acknowledgeAlert(input: ActionInput): Promise<AlertActionResult> {
  return transition(input, async (db, group, now) => {
    if (group.status === 'resolved') {
      throw new AppError('conflict', 'alert_resolved', `Alert group ${group.id} is already resolved by ${group.resolvedBy ?? 'someone'}.`);
    }
    if (group.status === 'acknowledged') return { changed: false };
    await markAlertAcknowledged(db, { id: group.id, actor: input.actor, at: now });
    await stopGroupEscalation(db, { groupId: group.id, reason: `acknowledged by ${input.actor}`, now });
    await cancelStaleDeliveries(db, { groupId: group.id, at: now });
    return { changed: true, note: `:eyes: Acknowledged by ${who(input.actor)}. Escalation stopped.` };
  });
}

export function resolveAlert(input: ActionInput & { note?: string }): Promise<AlertActionResult> {
  return transition(input, async (db, group, now) => {
    if (group.status === 'resolved') return { changed: false };
    await markAlertResolved(db, { id: group.id, actor: input.actor, at: now });
    await stopGroupEscalation(db, { groupId: group.id, reason: `resolved by ${input.actor}`, now });
    await cancelStaleDeliveries(db, { groupId: group.id, at: now });
    const what = input.note ? `: ${input.note.slice(0, 500)}` : '';
    return { changed: true, note: `:white_check_mark: Resolved by ${who(input.actor)}${what}. The next alert like this opens a new thread.` };
  });
}

export function silenceAlert(input: ActionInput & { durationMs: number }): Promise<AlertActionResult> {
  if (!Number.isFinite(input.durationMs) || input.durationMs <= 0 || input.durationMs > 7 * 86_400_000) {
    throw new AppError('usage', 'bad_silence', 'A silence lasts between 1s and 7d, such as 30m, 1h or 24h.');
  }
  return transition(input, async (db, group, now) => {
    if (group.status === 'resolved') {
      throw new AppError('conflict', 'alert_resolved', `Alert group ${group.id} is already resolved; there is nothing to silence.`);
    }
    const until = new Date(now.getTime() + input.durationMs);
    await silenceAlertGroup(db, { id: group.id, actor: input.actor, until });
    const paused = await silenceGroupEscalation(db, { groupId: group.id, reason: `silenced by ${input.actor} until ${until.toISOString()}`, until, now });
    const dropped = await cancelStaleDeliveries(db, { groupId: group.id, at: now });
    return { changed: true, note: `:mute: Silenced for ${formatDuration(input.durationMs)} by ${who(input.actor)}: repeats are counted, not posted; ${pagingNow(group, paused, dropped)}` };
  });
}

/** What the silence did to paging, as it is: an acknowledged alert was not paging anyone. */
function pagingNow(group: AlertGroup, paused: number, dropped: number): string {
  if (group.status === 'acknowledged') return `nobody was being paged: ${who(group.acknowledgedBy ?? 'someone')} had acknowledged it.`;
  const droppedNote = dropped > 0 ? ` ${dropped} queued page message${dropped === 1 ? '' : 's'} dropped.` : '';
  if (paused === 0) return `no escalation was running for it.${droppedNote}`;
  return `paging paused until the silence ends, then it starts again from the first rung if the alert is still open.${droppedNote}`;
}
