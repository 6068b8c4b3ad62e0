// Owns telling how a confirmed exit ended when its requester did not show the answer: it died
// while waiting (a SIGKILLed shell, a restarted replica), or stopped waiting (params.waitMs: ctb exit's
// --wait, the Slack button's) before the exit was carried out, refused or expired. The requester marks
// the answer shown when it showed it (exit-outcomes.ts); an answer nobody showed within a grace of its
// finishing — or of its requester's wait, whichever comes first — is claimed once across processes and
// told: its Slack message updated by a process that can (one that cannot leaves it to one that can,
// for a bound), else the alert channel. A requester showing the answer holds it meanwhile (its lease),
// so a slow showing is not told twice. A shown answer is never told again.
import { ALERT_TITLE_MAX } from '../../alerts/sanitize.js';
import type { AlertSink } from '../../alerts/types.js';
import type { Db } from '../../db/client.js';
import type { EngineRequest } from '../../db/schema/index.js';
import type { Logger } from '../../logger.js';
import type { Config } from '../../config/env.js';
import type { Notifier } from '../../notifications/notification.js';
import type { ManualExitOutcome } from '../../engine/manual-exit.js';
import type { ExitRequestState, ExitTarget } from '../../domain/exit-request-state.js';
import { claimUntoldExitOutcomes, finishExitOutcome, noticeUnshownExitAnswers, releaseExitOutcomeClaim, untoldExitAnswers } from '../../db/queries/exit-outcomes.js';
import type { HandlerOutcome } from '../engine-requests/runner.js';
import { keepHolding } from './keep-holding.js';

export interface TellExitDeps {
  db: Db;
  /** raiseWithin, when the sink has it, stores the alert in the transaction that marks the exit told. */
  alerts: Pick<AlertSink, 'raise' | 'raiseWithin'>;
  logger: Logger;
  config: Pick<Config, 'EXIT_REQUEST_TTL'>;
  /** The process's chat notifier: an exit asked from Slack has its messages brought up to the answer there. */
  notifier?: Notifier | null;
  /** How long an answer nobody showed is left to its requester before it is told; default EXIT_SHOWN_GRACE_MS (tests shorten it). */
  exitShownGraceMs?: number;
  /** How long a claim on telling an exit holds; default EXIT_TELL_LEASE_MS (tests shorten it). */
  exitTellLeaseMs?: number;
}

/**
 * The alert that tells a finished exit's outcome, or null while it is open. `unshown` says why a Slack
 * message that shows the exit does not show the answer (that message is left pending).
 */
export function exitOutcomeAlert(row: EngineRequest, unshown?: string): Parameters<AlertSink['raise']>[0] | null {
  if (row.kind !== 'exit_trade' || (row.status !== 'done' && row.status !== 'failed')) return null;
  const result = (row.result ?? {}) as { summary?: unknown; expired?: unknown };
  const summary = typeof result.summary === 'string' ? result.summary : row.error ?? '';
  const how = row.status === 'done' ? 'carried out' : result.expired === true ? 'expired: nothing was sold' : 'not carried out';
  const target = row.params['target'] === 'all' ? 'every listed trade' : `trade #${String(row.params['target'])}`;
  const confirmed = typeof row.params['writtenAt'] === 'string' ? ` (confirmed at ${row.params['writtenAt']})` : '';
  const skipped = skippedOf(row);
  const head = `Exit of ${target} asked by ${row.requestedBy}${confirmed}, request #${row.id}: ${how} — `;
  const notes = titleNotes(head, unshown, skipped);
  return {
    source: 'engine', severity: row.status === 'done' ? 'info' : 'warning', fingerprint: `exit_request:${row.id}`,
    // Only the summary is cut to make room (it is whole in details): the notes always show.
    title: `${head}${cutTo(summary, ALERT_TITLE_MAX - head.length - notes.length)}${notes}`,
    details: {
      requestId: row.id, requestedBy: row.requestedBy, status: row.status, summary,
      ...(unshown ? { slackMessage: unshown } : {}), ...(skipped ? { leftOut: skipped.note, skippedTradeIds: skipped.tradeIds } : {}),
    },
  };
}

/** The least of an exit's summary its alert's title keeps when its notes are long: past it, "left out" is said in short. */
const SUMMARY_AT_LEAST = 40;

/**
 * The notes that end an exit's alert title (stored up to ALERT_TITLE_MAX): why its Slack message
 * shows it pending, then what it left out — in full when that leaves the summary SUMMARY_AT_LEAST,
 * else counted, the note whole in details (leftOut).
 */
function titleNotes(head: string, unshown: string | undefined, skipped: { note: string; tradeIds: number[] } | null): string {
  const slack = unshown ? ` ${unshown}` : '';
  if (!skipped) return slack;
  const whole = `${slack} Left out: ${skipped.note}`;
  if (head.length + SUMMARY_AT_LEAST + whole.length <= ALERT_TITLE_MAX) return whole;
  const n = skipped.tradeIds.length;
  return `${slack} Left out: ${n} trade${n === 1 ? '' : 's'} another queued exit already closes (details: leftOut).`;
}

/** `text` cut to `max` characters, ending "…" when cut. */
function cutTo(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, Math.max(0, max - 1))}…` : text;
}

/** What an `exit all` left out when it was asked (the trades another queued exit already closed), as its request records it. */
export function skippedOf(row: Pick<EngineRequest, 'params'>): { note: string; tradeIds: number[] } | null {
  const s = row.params['skipped'] as { note?: unknown; tradeIds?: unknown } | undefined;
  if (!s || typeof s.note !== 'string') return null;
  return { note: s.note, tradeIds: Array.isArray(s.tradeIds) ? s.tradeIds.filter((id): id is number => typeof id === 'number') : [] };
}

/**
 * How long after an answer was first found unshown (or after its requester's wait) it is left to its
 * requester: a live one reads it within its poll (100 ms) and marks it shown at once; Slack's button
 * updates its message first.
 */
export const EXIT_SHOWN_GRACE_MS = 5_000;

/** A finished exit as its Slack message shows it (what renderExitProgress reads), from its row. */
export function answeredExitState(row: EngineRequest, ttlMs: number): ExitRequestState {
  const result = (row.result ?? {}) as { summary?: string; results?: ManualExitOutcome[] };
  return {
    requestId: row.id, status: row.status === 'done' ? 'done' : 'failed', joined: false, summary: result.summary ?? row.error ?? null,
    results: Array.isArray(result.results) ? result.results : [], waitedMs: null, ttlMs, toldLater: false, queued: null, ...skippedState(row),
  };
}

/** The `skipped` fields of an exit's state (exit-request-state.ts) from its request: what an `exit all` left out. */
export function skippedState(row: Pick<EngineRequest, 'params'>): Pick<ExitRequestState, 'skipped' | 'skippedTradeIds'> {
  const skipped = skippedOf(row);
  return skipped ? { skipped: skipped.note, skippedTradeIds: skipped.tradeIds } : {};
}

/**
 * Brings the Slack messages that show exit `row` (its button's, and a joining click's) up to its
 * answer; true when at least one now shows it. A message Slack refused is logged.
 */
async function updateMessages(ctx: TellExitDeps, row: EngineRequest): Promise<boolean> {
  const messages = row.replyMessages ?? [];
  const notifier = ctx.notifier;
  if (messages.length === 0 || !notifier?.carries.has('exit_outcome')) return false;
  const target: ExitTarget = row.params['target'] === 'all' ? 'all' : Number(row.params['target']);
  const request = answeredExitState(row, ctx.config.EXIT_REQUEST_TTL);
  let shown = false;
  for (const message of messages) {
    try {
      await notifier.notify(ctx.db, { kind: 'exit_outcome', message, target, requestedBy: row.requestedBy, request });
      shown = true;
    } catch (err) {
      ctx.logger.warn({ err, requestId: row.id, channel: message.channel, ts: message.ts }, 'could not update an exit\'s Slack message with its answer');
    }
  }
  return shown;
}

/**
 * How long a claim on telling an exit (a sweep's, or its requester's hold while it shows the answer)
 * holds unrenewed before another sweep may take it over: its process died between the claim and the
 * telling. Whoever holds it renews it while it tells (keep-holding.ts), so a slow Slack update or
 * reader is not told twice; the lease bounds how long a dead process keeps an answer untold (and a
 * requester's showing that never finishes, about EXIT_SHOW_HOLD_LEASES leases more: request-exit.ts).
 */
export const EXIT_TELL_LEASE_MS = 60_000;

/**
 * How long past its grace an exit a Slack message shows is left to a process that can update that
 * message (one with a Slack notifier; the button's replicas sweep every 2 s): a process without one —
 * a `ctb` shell, a worker without Slack tokens — tells it to the alert channel only after this, saying so.
 */
export const EXIT_SLACK_UPDATE_BOUND_MS = 30_000;

const seconds = (ms: number) => `${Math.round(ms / 1000)}s`;

/**
 * Tells the outcome of every answered exit nobody showed once its grace is over (with `ids`, only
 * those): an exit asked from Slack has its message updated with the answer (then it is shown there),
 * any other — or one whose message Slack refused — goes to the alert channel, its alert stored in the
 * outbox in the transaction that marks it told (both or neither). A process that cannot update Slack
 * leaves an exit a Slack message shows to one that can, for EXIT_SLACK_UPDATE_BOUND_MS; then it tells
 * the alert channel, saying the message was not updated. Claimed first for one process, as a lease:
 * a telling that failed is put back for the next sweep, and one whose process died is taken over once
 * the lease is out; an exit its requester holds while showing the answer is not taken before its lease
 * is out either. Idle (nothing untold), one read of the partial index of untold exits. Returns how many were told.
 */
export async function tellUnshownExits(ctx: TellExitDeps, opts: { ids?: readonly number[] } = {}): Promise<number> {
  const canUpdateSlack = ctx.notifier?.carries.has('exit_outcome') === true;
  const graceMs = ctx.exitShownGraceMs ?? EXIT_SHOWN_GRACE_MS;
  const leaseMs = ctx.exitTellLeaseMs ?? EXIT_TELL_LEASE_MS;
  const window = { graceMs, leaseMs, slackBoundMs: EXIT_SLACK_UPDATE_BOUND_MS, ...(opts.ids ? { ids: opts.ids } : {}) };
  const found = await untoldExitAnswers(ctx.db, window);
  if (found.length === 0) return 0;
  const unnoticed = found.filter((f) => !f.noticed).map((f) => f.id);
  if (unnoticed.length > 0) await noticeUnshownExitAnswers(ctx.db, unnoticed);
  const ours = found.filter((f) => f.claimable && (canUpdateSlack || !f.slack || f.slackOverdue)).map((f) => f.id);
  if (ours.length === 0) return 0;
  const claimed = await claimUntoldExitOutcomes(ctx.db, {
    graceMs, leaseMs, ids: ours, ...(canUpdateSlack ? {} : { slackBoundMs: EXIT_SLACK_UPDATE_BOUND_MS }),
  });
  let told = 0;
  // Held while this sweep tells them, one after another: a Slack update slower than the lease (or
  // a batch of them) does not let another process take an exit over and tell it a second time.
  const untold = new Set(claimed.map(({ row }) => row.id));
  const keeping = claimed.length > 0 ? keepHolding(ctx, () => [...untold], claimed[0]!.claim, leaseMs) : null;
  try {
    for (const { row, claim } of claimed) {
      told += await tellOne(ctx, row, claim, { canUpdateSlack, graceMs });
      untold.delete(row.id);
    }
  } finally {
    await keeping?.stop();
  }
  return told;
}

/** Tells one claimed exit: its Slack messages updated, else its alert stored with the mark. 1 once told; else 0 (a failure is put back for the next sweep). */
async function tellOne(ctx: TellExitDeps, row: EngineRequest, claim: string, opts: { canUpdateSlack: boolean; graceMs: number }): Promise<number> {
  const shownInSlack = (row.replyMessages ?? []).length > 0;
  const unshown = !shownInSlack ? undefined : opts.canUpdateSlack
    ? 'Its Slack message could not be updated with this answer: it still shows the exit pending.'
    : `Its Slack message still shows the exit pending: no process that can update Slack told it within ${seconds(opts.graceMs + EXIT_SLACK_UPDATE_BOUND_MS)} of its answer.`;
  const alert = exitOutcomeAlert(row, unshown);
  if (!alert) return 0;
  try {
    if (await updateMessages(ctx, row)) return (await finishExitOutcome(ctx.db, row.id, claim, { shown: true })) ? 1 : 0;
    const alerted = await ctx.db.transaction(async (tx) => {
      if (!(await finishExitOutcome(tx, row.id, claim, { shown: false }))) return null;
      if (ctx.alerts.raiseWithin) return ctx.alerts.raiseWithin(tx, alert);
      await ctx.alerts.raise(alert);
      return () => undefined;
    });
    // Committed: the mark and the alert are stored together, and only now is the alert counted.
    if (!alerted) return 0;
    alerted();
    return 1;
  } catch (err) {
    ctx.logger.error({ err, requestId: row.id }, 'could not tell how an exit ended; told on the next sweep');
    await releaseExitOutcomeClaim(ctx.db, row.id, claim).catch((e: unknown) => ctx.logger.error({ err: e, requestId: row.id }, 'could not put back the claim to tell an exit\'s outcome; another sweep takes it once its lease is out'));
    return 0;
  }
}

/** The engine's runner, after it finished a request: an exit's outcome is told at once when its requester's wait was already over. */
export function exitFollowUp(ctx: TellExitDeps): (request: EngineRequest, outcome: HandlerOutcome) => Promise<void> {
  return async (request) => {
    if (request.kind !== 'exit_trade') return;
    await tellUnshownExits(ctx, { ids: [request.id] });
  };
}
