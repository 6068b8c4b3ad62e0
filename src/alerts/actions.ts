// Owns what a person does to an alert group: acknowledge (stops the escalation and lets go of the
// pages still queued; each page already delivered is followed, in its own thread, by who took it),
// resolve (closes the group: the next alert with its fingerprint opens a new
// thread; queued pages and notes about the open incident are let go; each page already delivered is
// followed, in its own thread, by the resolution), silence for a while (no
// thread noise, no paging: the pages still queued are let go; when it ends on a group still open,
// paging starts again from the first rung). Each is one transaction that first takes the group's
// send lock (alert-deliveries.ts), waiting for the messages being sent right now, so no page goes
// out after it that it made stale, and says in the thread which pages were already on their way. A
// send still under way after SEND_WAIT_MS cannot be waited for any longer nor called back: the
// action then changes nothing and says to try again. It also queues the timeline line and a
// refresh of the parent message. Repeating an action is harmless (Slack retries, presses repeated while Slack is slow).
import type { Clock } from '../clock.js';
import { formatDuration } from '../config/duration.js';
import type { Db } from '../db/client.js';
import {
  alertGroupById, bumpAlertGroupVersion, lockAlertGroup, markAlertAcknowledged, markAlertResolved, silenceAlertGroup,
} from '../db/queries/alert-groups.js';
import { cancelStaleDeliveries, deliveredPages, waitForGroupSends, type GroupSendWait, type SendUnderWay } from '../db/queries/alert-deliveries.js';
import { escalationOfGroup, silenceGroupEscalation, stopGroupEscalation } from '../db/queries/alert-escalations.js';
import { databaseNow } from '../db/queries/database-clock.js';
import type { AlertEscalation, AlertGroup } from '../db/schema/alerts.js';
import { AppError } from '../errors.js';
import { enqueuePageFollowUp, enqueueThreadNote, expediteGroup, requestSync } from '../db/queries/alert-outbox.js';
import type { AlertAction } from './permissions.js';
import { who } from './render.js';

export interface AlertActionResult {
  group: AlertGroup;
  /** False when the group was already in that state (a repeated click or a Slack retry). */
  changed: boolean;
  /** An acknowledge or silence of a group whose escalation had already run out: where (last step, round) and when it ended. */
  escalationEnded?: EscalationEnded;
}

export interface EscalationEnded {
  round: number;
  step: number;
  at: Date;
}

interface ActionInput {
  db: Db;
  clock: Clock;
  groupId: number;
  actor: string;
  /** How long to wait for a message of the group being sent right now (default SEND_WAIT_MS). */
  sendWaitMs?: number;
}

async function loadGroup(db: Db, groupId: number): Promise<AlertGroup> {
  const group = await alertGroupById(db, groupId);
  if (!group) throw new AppError('usage', 'alert_not_found', `There is no alert group ${groupId}.`, { hint: 'The group number is shown on the alert message.', terminalHint: 'ctb alerts list shows the groups not resolved, with their numbers.' });
  return group;
}

/** How long an action waits for a message of the group being handed to Slack or SMTP right now. */
const SEND_WAIT_MS = 10_000;

const messageName = (m: SendUnderWay) =>
  m.kind === 'email' ? 'the alert email' : m.kind === 'slack_dm' ? `the page to ${who(m.target)}` : 'a message in its Slack thread';

/** The pages (DMs, alert email) that were being sent as the action came and went out: the action could not stop them. */
function alreadyOnTheirWay(underWay: SendUnderWay[]): string {
  const sent = underWay.filter((m) => (m.kind === 'slack_dm' || m.kind === 'email') && m.outcome === 'sent').map(messageName);
  return sent.length > 0 ? ` Already on its way when this was done, and delivered: ${sent.join(', ')}.` : '';
}

const DONE_WORD: Record<AlertAction, string> = { ack: 'acknowledged', resolve: 'resolved', silence: 'silenced' };

/**
 * The send lock was not had within the wait. Going ahead without it could let a page out after
 * this action commits with nothing in the thread about it, so the action changes nothing.
 */
function busy(input: ActionInput, action: AlertAction, wait: Extract<GroupSendWait, { held: false }>, waitMs: number): AppError {
  const what = wait.heldBy === 'action'
    ? 'another acknowledge, resolve or silence of it'
    : `${wait.underWay.length > 0 ? wait.underWay.map(messageName).join(', ') : 'a message of it'}, being sent right now,`;
  return new AppError('retryable', 'alert_send_under_way',
    `Alert group ${input.groupId} was not ${DONE_WORD[action]}: ${what} had not finished within ${formatDuration(waitMs)}. Nothing was changed.`,
    { hint: 'Try again in a moment.' });
}

async function transition(
  input: ActionInput,
  action: AlertAction,
  apply: (db: Db, group: AlertGroup, now: Date) => Promise<{ changed: boolean; note?: string; escalationEnded?: EscalationEnded }>,
): Promise<AlertActionResult> {
  const now = input.clock.now();
  const waitMs = input.sendWaitMs ?? SEND_WAIT_MS;
  return input.db.transaction(async (db) => {
    const wait = await waitForGroupSends(db, { groupId: input.groupId, waitMs });
    if (!wait.held) throw busy(input, action, wait, waitMs);
    const { underWay } = wait;
    await lockAlertGroup(db, input.groupId);
    const before = await loadGroup(db, input.groupId);
    const { changed, note, escalationEnded } = await apply(db, before, now);
    if (changed) {
      await bumpAlertGroupVersion(db, before.id);
      if (note) await enqueueThreadNote(db, { groupId: before.id, channel: before.slackChannel, text: note + alreadyOnTheirWay(underWay), now });
      await requestSync(db, { groupId: before.id, now });
      await expediteGroup(db, { groupId: before.id });
    }
    return { group: await loadGroup(db, input.groupId), changed, ...(escalationEnded ? { escalationEnded } : {}) };
  });
}

export function acknowledgeAlert(input: ActionInput): Promise<AlertActionResult> {
  return transition(input, 'ack', async (db, group, now) => {
    if (group.status === 'resolved') {
      throw new AppError('conflict', 'alert_resolved', `Alert group ${group.id} is already resolved by ${group.resolvedBy ?? 'someone'}.`);
    }
    if (group.status === 'acknowledged') return { changed: false };
    // A ladder that had already run out (a rehearsal's single round, or every round) is not stopped by this.
    const ended = endedLadder(await escalationOfGroup(db, group.id));
    const escalation = ended
      ? `The escalation had already finished (step ${ended.step} of round ${ended.round}, at ${isoSeconds(ended.at)}); nobody was being paged.`
      : 'Escalation stopped.';
    await markAlertAcknowledged(db, { id: group.id, actor: input.actor, at: now });
    await stopGroupEscalation(db, { groupId: group.id, reason: `acknowledged by ${input.actor}`, now });
    await cancelStaleDeliveries(db, { groupId: group.id, at: now });
    // Each person paged learns, under their page, that someone has it and nobody else will be paged.
    for (const page of await deliveredPages(db, group.id)) {
      await enqueuePageFollowUp(db, { groupId: group.id, page, now, text: `:eyes: Acknowledged by ${who(input.actor)}: ${ended ? 'the escalation had already finished' : 'escalation stopped'}, nobody else is paged for this alert.` });
    }
    return { changed: true, note: `:eyes: Acknowledged by ${who(input.actor)}. ${escalation}`, ...(ended ? { escalationEnded: ended } : {}) };
  });
}

export function resolveAlert(input: ActionInput & { note?: string }): Promise<AlertActionResult> {
  return transition(input, 'resolve', async (db, group, now) => {
    if (group.status === 'resolved') return { changed: false };
    await markAlertResolved(db, { id: group.id, actor: input.actor, at: now });
    await stopGroupEscalation(db, { groupId: group.id, reason: `resolved by ${input.actor}`, now });
    await cancelStaleDeliveries(db, { groupId: group.id, at: now });
    // A page Slack took cannot be recalled: each person paged learns, under their page, that it is over.
    for (const page of await deliveredPages(db, group.id)) {
      await enqueuePageFollowUp(db, { groupId: group.id, page, now, text: `:white_check_mark: Resolved by ${who(input.actor)}: nothing left to do for this page.` });
    }
    const what = input.note ? `: ${input.note.slice(0, 500)}` : '';
    return { changed: true, note: `:white_check_mark: Resolved by ${who(input.actor)}${what}. The next alert like this opens a new thread.` };
  });
}

/**
 * A silence asked for within this long of the one in force ends when that one does: the same
 * decision pressed again (a double click, presses repeated while Slack was slow to show the first).
 * It changes nothing and says nothing in the thread; a different length is a new decision.
 */
const SAME_SILENCE_MS = 60_000;

export function silenceAlert(input: ActionInput & { durationMs: number }): Promise<AlertActionResult> {
  if (!Number.isFinite(input.durationMs) || input.durationMs <= 0 || input.durationMs > 7 * 86_400_000) {
    throw new AppError('usage', 'bad_silence', 'A silence lasts between 1s and 7d, such as 30m, 1h or 24h.');
  }
  return transition(input, 'silence', async (db, group, now) => {
    if (group.status === 'resolved') {
      throw new AppError('conflict', 'alert_resolved', `Alert group ${group.id} is already resolved; there is nothing to silence.`);
    }
    // The silence is the database's: it ends durationMs after its now(), and the one in force is
    // judged on that clock too (a replica minutes off would take the same press for a new silence).
    const dbNow = await databaseNow(db);
    const asked = dbNow.getTime() + input.durationMs;
    if (group.silencedUntil !== null && group.silencedUntil > dbNow && Math.abs(asked - group.silencedUntil.getTime()) < SAME_SILENCE_MS) {
      return { changed: false };
    }
    const ended = endedLadder(await escalationOfGroup(db, group.id));
    const until = await silenceAlertGroup(db, { id: group.id, actor: input.actor, forMs: input.durationMs });
    const paused = await silenceGroupEscalation(db, { groupId: group.id, reason: `silenced by ${input.actor} until ${until.toISOString()}`, until, now: dbNow });
    const dropped = await cancelStaleDeliveries(db, { groupId: group.id, at: now });
    const note = `:mute: Silenced for ${formatDuration(input.durationMs)} by ${who(input.actor)}: repeats are counted, not posted; ${pagingNow(group, paused, dropped, ended)}`;
    return { changed: true, note, ...(ended ? { escalationEnded: ended } : {}) };
  });
}

/** Where and when the group's ladder ran out, when it had (the row keeps its last step and round). */
function endedLadder(esc: AlertEscalation | undefined): EscalationEnded | undefined {
  return esc?.status === 'exhausted' ? { round: esc.round - esc.roundBase, step: esc.step, at: esc.updatedAt } : undefined;
}

const isoSeconds = (at: Date) => at.toISOString().replace(/\.\d{3}Z$/, 'Z');

/**
 * What the silence did to paging, as it is: an acknowledged alert was not paging anyone; a ladder
 * that had run out was paging nobody either (it starts again when the silence ends, as any silence's).
 */
function pagingNow(group: AlertGroup, paused: number, dropped: number, ended: EscalationEnded | undefined): string {
  if (group.status === 'acknowledged') return `nobody was being paged: ${who(group.acknowledgedBy ?? 'someone')} had acknowledged it.`;
  const droppedNote = dropped > 0 ? ` ${dropped} queued page message${dropped === 1 ? '' : 's'} dropped.` : '';
  if (ended) {
    return `nothing was being paged: the escalation had already run out, at step ${ended.step} of round ${ended.round}, at ${isoSeconds(ended.at)}, so there was no paging to pause. `
      + `If the alert is still open when the silence ends, paging starts again from the first rung.${droppedNote}`;
  }
  if (paused === 0) return `no escalation was running for it.${droppedNote}`;
  return `paging paused until the silence ends, then it starts again from the first rung if the alert is still open.${droppedNote}`;
}
