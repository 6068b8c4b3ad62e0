// Owns the kill. At once, side by side, neither waiting for the other:
//   - the cancel: every open order on every venue this process reaches (Kraken whenever it holds
//     the key, armed or not; paper), in the urgent lane, confirmed by re-query;
//   - the fence: this process latched and the halt written to the database for every process
//     (bot_state halted + paper, the incident), the kill saved to DATA_DIR (fsynced) beside it: the
//     copy that counts when the database does not take the halt. Its lock (held by another process
//     for up to 5 s) is never in front of the halt's write.
// Once the halt is in the database, the kill waits (bounded) until no order intent written before
// it is still on its way, then cancels once more: no order the engine sends reaches a venue after
// the kill answers. A process without the key hands Kraken's cancel to the running bot that has it
// and waits for its confirmation; what became of it (taken, queued for a bot, not handed over) is
// said first, once known. When the database does not answer in time, the saved kill is
// written when it returns. Then alert. The engine is not involved: a stuck engine cannot delay it.
import { randomUUID } from 'node:crypto';
import type { AlertSink } from '../../alerts/types.js';
import type { Config } from '../../config/env.js';
import type { IncidentChecklistItem } from '../../db/schema/index.js';
import type { Actor } from '../../domain/actor.js';
import type { JobRegistry } from '../../jobs/registry.js';
import { afterRequestsLeave, answerBound, cancelEverywhere, logUnconfirmed, mergeCancelReports, type CancelOptions, type CancelReport } from './cancel-everywhere.js';
import { databaseProblem } from '../../db/connect-errors.js';
import { DeadlineError, describeError, withDeadline } from './deadline.js';
import { awaitOrdersInFlight, confirmedClear, neverLiveNotClear, type FenceReport } from './fence.js';
import { adoptHaltCancel } from './halt-cancel.js';
import { KrakenRoom } from './kraken-room.js';
import { handKrakenCancelOver, leaseForHandoff, neverLiveHere, type HandoffDeps } from './handoff.js';
import { killTargetOf } from './kill-target.js';
import { knownServerIdentity } from './database-identity.js';
import { dropRunningKill, pendingKillPath, releaseRunningKill, saveRunningKill, type PendingKill } from './pending-kill.js';
import { checklistOf, persistKill, recordCancelReport, type KillRecord, type PersistOutcome } from './persist-kill.js';
import { killFollowUpOf, stillPending } from './follow-up-request.js';
import { followUpOnCancelItem } from './cancel-item-follow-up.js';
import { markChecklistAttempt, reopenChecklistItemRecord } from './checklist-records.js';
import { announceIncident, type AnnounceDeps } from './announce-incident.js';
import { latchHalt, type FlattenOutcome, type HaltSaved, type KillPorts } from './runtime.js';
import { closePositionsAfterKill, type ChecklistItemDeps } from './incident.js';
import { databaseFailure, localHaltPhrase, savedFollowUpPhrase, unsavedHaltPhrase, type Killer } from '../../domain/local-halt.js';
import { clearCancelPhrase, krakenAccessOf, neverLiveNotice, zeroOpenConfirmedPhrase, noKeyNotice, queuedHandOff, type KillFollowUp, type KrakenAccess } from '../../domain/kraken-handoff.js';

/**
 * A kill: the exchanges and the halt (database, DATA_DIR, this process's latch and halt cancel, kept
 * per job registry), the hand-over of Kraken's cancel, the incident's thread and checklist, the alert.
 */
export type KillDeps = ChecklistItemDeps & HandoffDeps & AnnounceDeps & {
  /** Where the database is, to name it when it cannot be used (never its password). */
  config: Pick<Config, 'DATABASE_URL' | 'KRAKEN_API_URL' | 'DATA_DIR' | 'postgresEnv'>;
  alerts: Pick<AlertSink, 'raise'>;
  kill: KillPorts;
  jobs: JobRegistry;
};

export interface KillRequest {
  actor: Actor;
  reason: string;
  trigger: 'manual' | 'auto';
  flatten?: boolean;
}

export interface KillResult {
  ok: boolean;
  /** Said first wherever the kill is shown: set when this process has no Kraken key, saying what became of Kraken's cancel. */
  notice: string | null;
  killId: string;
  /** A kill was already in force (its incident still open, the bot halted): this one re-cancelled and joined it. */
  alreadyKilled: boolean;
  /**
   * This kill joined an incident still open. Without alreadyKilled the bot was not halted (it was
   * trading): this kill halted it now, and is said so.
   */
  joinedIncident: boolean;
  /** The halt that stood when this kill came (not a kill in force: reconciliation's, the engine's) and that it took over. */
  haltTakenOver?: { by: string | null; reason: string | null };
  /** How Kraken was reached: itself, or (no key here) taken by a running bot, queued for one, or not at all (domain/kraken-handoff.ts). */
  krakenAccess: KrakenAccess;
  /** A kill that joined an open incident and confirmed zero open orders resolved the earlier kill's alert group: which, and on what. */
  resolvedAlert?: { group: number; confirmed: string };
  /** What Kraken and paper said they cancelled over every cancel of this kill, and what is left. */
  cancel: CancelReport;
  /** The wait for orders already on their way when the halt was written (null: the halt is not in the database). */
  fence: FenceReport | null;
  /**
   * written: halted is in the database; pending: saved to pendingFile, written when the database
   * returns; unsaved: neither the database nor DATA_DIR took it (saveError says why DATA_DIR did not),
   * so only this process's latch holds it, while it runs.
   */
  state: 'written' | 'pending' | 'unsaved';
  stateError?: string;
  saveError?: string;
  /**
   * Set when the halt could not be written because the database cannot be used as configured (it does
   * not exist, the login is refused, the host is unknown): what is wrong and what to fix. Waiting does
   * not bring that database back; the CLI exits 2, as for any configuration error.
   */
  stateConfigProblem?: string;
  /** The halt's write missed its deadline: it may still land, so it is "not confirmed", not "not in the database". */
  stateTimedOut?: boolean;
  pendingFile?: string;
  /** The database the saved kill is aimed at (kill-target.ts), named without a secret: set with pendingFile. */
  pendingTarget?: string;
  incidentId: number | null;
  /** The incident's checklist as this kill left it: done, or its state (a cancel item failed or pending on a follow-up). */
  checklist: Array<Pick<IncidentChecklistItem, 'item' | 'label' | 'doneAt' | 'doneBy' | 'state'>>;
  /**
   * Never live here (no bot has the Kraken key, no live order ever) and not confirmed clear: what was
   * not confirmed and what the operator does next (fence.ts neverLiveNotClear) — said the same in the
   * terminal, the Slack reply, the alert and the cancel item, since no follow-up goes on.
   */
  notClear?: { why: string; next: string };
  flatten: FlattenOutcome | null;
  /**
   * Not confirmed within KILL_CONFIRM_WAIT: the confirmation goes on in the running bot that holds
   * the key (a cancel_all engine request), and the incident's cancel item shows it pending until that
   * bot answers; `error` when it could not be handed over.
   */
  followUp?: KillFollowUp;
  /**
   * Kraken not confirmed clear by this process's own cancel while the database did not take the halt
   * (state pending): the follow-up is saved with the kill in DATA_DIR and written, handed on to the
   * bot with the key, when the saved kill is (replay-pending.ts); nothing goes on cancelling until then.
   */
  followUpSaved?: boolean;
}

/** A Slack retry carries the same request id: it maps to the same kill. */
export function killIdFor(actor: Actor): string {
  return actor.requestId ? `req:${actor.source}:${actor.requestId}` : randomUUID();
}

export async function executeKill(ctx: KillDeps, request: KillRequest): Promise<KillResult> {
  const at = ctx.clock.now();
  const startedAt = Date.now();
  const killId = killIdFor(request.actor);
  const reason = request.reason.trim() || 'no reason given';
  const direct = ctx.exchanges.hasKrakenKeys();
  // One confirmation budget for the whole kill: the cancel's rounds, the wait for orders on their way, the cancel after it.
  const { now } = ctx.kill.time;
  // Kraken's part of the answer ends within KILL_CONFIRM_WAIT plus one call's deadline: a call under
  // way then is given up and none is sent after it, however many rounds are left (KILL_CONFIRM_ATTEMPTS
  // included); what is not confirmed by then goes on in the bot with the key (keepConfirming, below).
  const bound = answerBound(ctx.kill.time, ctx.config.KILL_CONFIRM_WAIT, ctx.config.KILL_CALL_TIMEOUT);
  const { confirmUntil } = bound;
  let lastProgress: string | undefined;
  const progress = (line: string) => {
    // The rounds after the fence that find no time left say what the first ones said: once is enough.
    if (line === lastProgress) return;
    lastProgress = line;
    try {
      ctx.kill.onProgress?.(line);
    } catch (err) {
      ctx.logger.error({ err, killId }, 'kill: could not tell its progress');
    }
  };
  const cancelOptions: CancelOptions = {
    exchanges: ctx.exchanges, logger: ctx.logger, attempts: ctx.config.KILL_CONFIRM_ATTEMPTS, ...bound, databaseTimeoutMs: ctx.config.KILL_DB_TIMEOUT, progress,
    krakenUrl: ctx.config.KRAKEN_API_URL ?? 'https://api.kraken.com',
    // One view of Kraken's call counter for both cancels: the one after the fence waits for room too.
    // and it starts from what the other processes using the key were refused (the shared record).
    krakenRoom: new KrakenRoom(ctx.config.KRAKEN_RATE_TIER, now, { counter: ctx.kill.counter, readTimeoutMs: ctx.config.KILL_DB_TIMEOUT }),
    // The kill raises its own alert, which says when orders could not be confirmed cancelled.
    alerted: true,
    // Its rounds before and after the fence (and a hand-over) make one answer, said once it is in.
    partial: true,
  };

  // The exchange calls leave now, before anything else runs here (one turn of the event loop).
  const cancelling = cancelEverywhere(cancelOptions);
  adoptHaltCancel(ctx, cancelling.then((r) => r.venues.find((v) => v.venue === 'kraken') ?? null));
  await afterRequestsLeave();
  latchHalt(ctx, reason, killId);

  // The halt's write and the kill's saved copy start together: the copy waits on the saved kills'
  // lock (another process may hold it for seconds), the halt never does.
  const record: KillRecord = { killId, at, actor: request.actor.id, trigger: request.trigger, reason, cancelReport: {} };
  const server = knownServerIdentity(ctx);
  const saved: Omit<PendingKill, 'owner'> = { ...record, at: at.toISOString(), actorSource: request.actor.source, target: killTargetOf(ctx.config), ...(server ? { server } : {}) };
  // A kill with the key owes a follow-up on Kraken until it confirms zero open orders there: its first
  // entry says so, so a kill stopped or crashed before it answered is replayed with the cancel handed
  // on, not with the halt alone. Owned for as long as the kill can take to answer (its cancel's bound,
  // the database's deadlines, a margin): a replay meanwhile leaves the entry to the kill, whose update
  // it would otherwise race (deleting it, or replaying it twice).
  const ownedForMs = ctx.config.KILL_CONFIRM_WAIT + ctx.config.KILL_CALL_TIMEOUT + ctx.config.KILL_DB_TIMEOUT * 4 + 10_000;
  const onDisk = saveRunningKill(ctx.config.DATA_DIR, direct ? { ...saved, krakenFollowUp: true } : saved, ownedForMs)
    .then((): { error?: string } => ({}), (err: unknown) => {
      ctx.logger.error({ err, killId }, `kill: could not save the kill in DATA_DIR (${describeError(err)}); needed only if the database does not take the halt`);
      return { error: describeError(err) };
    });
  const recorded = { halt: false };
  let dropped: Promise<void> = Promise.resolve();
  const halting = withDeadline(persistKill(ctx.db, record), ctx.config.KILL_DB_TIMEOUT, 'the database')
    .then((outcome) => {
      // Said as soon as the database holds the halt, before the saved copy is dropped: an interrupt
      // in between must not call a halt the database took "not confirmed".
      recorded.halt = true;
      try {
        ctx.kill.onHaltRecorded?.({ incidentId: outcome.incident.id, alreadyKilled: outcome.alreadyKilled, joined: outcome.joined });
      } catch (err) {
        ctx.logger.error({ err, killId }, 'kill: could not say that the halt is recorded');
      }
      // The database holds the halt: the saved copy goes now, whatever Kraken is still doing — after
      // its save (one change at a time in this process), so the fence and the cancel after it do
      // not wait for that; the kill answers once it is gone.
      dropped = dropRunningKill(ctx.config.DATA_DIR, killId).catch((err: unknown) => ctx.logger.error({ err, killId }, 'kill: could not remove its saved copy'));
      return outcome;
    });
  tellSaved(ctx, onDisk, halting, recorded);
  const [firstCancel, halt] = await Promise.all([
    cancelling,
    halting.then((outcome): { outcome: PersistOutcome } | { error: unknown } => ({ outcome }), (error: unknown) => ({ error })),
  ]);
  ctx.logger.warn({ killId, actor: request.actor.id, cancel: firstCancel }, 'kill: first cancel answered');

  const result: KillResult = {
    // A keyless kill's notice and access are set once the hand-over's outcome is known (below).
    ok: false, notice: null, killId, alreadyKilled: false, joinedIncident: false, krakenAccess: direct ? 'direct' : 'not_handed_off',
    cancel: firstCancel, fence: null, state: 'written', incidentId: null, checklist: [], flatten: null,
  };

  let neverLive: { nobody: string } | null = null;
  if ('outcome' in halt) {
    // Every intent written before the halt reaches its venue (or the wait runs out); then cancel again.
    // An order on its way to a slow Kraken is pending for as long as Kraken takes: the fence waits
    // out the confirmation budget (at least the database's deadline), each read under that deadline.
    const fenceMs = Math.max(ctx.config.KILL_DB_TIMEOUT, confirmUntil - now());
    result.fence = await awaitOrdersInFlight(ctx.db, fenceMs, 20, ctx.config.KILL_DB_TIMEOUT);
    result.cancel = mergeCancelReports(result.cancel, await cancelEverywhere(cancelOptions));
    // No key here nor in any running bot, and no use of Kraken ever in the database (a live order, live
    // mode, a keyed or armed lease, a cancel there): nothing of this bot is on Kraken, nothing could take a cancel, so none is sent or queued (and none is said to be).
    // One reading of the engine lease decides both, so they cannot disagree should it change meanwhile.
    if (!direct) {
      const holder = await leaseForHandoff(ctx);
      neverLive = await neverLiveHere(ctx, holder);
      if (!neverLive) {
        const kraken = await handKrakenCancelOver(ctx, holder, { killId, actor: request.actor.id, reason, startedAt });
        result.cancel = mergeCancelReports(result.cancel, { venues: [kraken], allConfirmed: kraken.confirmed });
      }
    }
    await recordOutcome(ctx, result, halt.outcome);
  } else {
    result.state = 'pending';
    const stateError = describeError(halt.error);
    result.stateError = stateError;
    const problem = databaseProblem(halt.error, ctx.config.DATABASE_URL);
    if (problem?.kind === 'config') result.stateConfigProblem = problem.userMessage;
    if (halt.error instanceof DeadlineError) result.stateTimedOut = true;
    result.pendingFile = pendingKillPath(ctx.config.DATA_DIR);
    result.pendingTarget = killTargetOf(ctx.config);
    if (!direct) {
      result.cancel = mergeCancelReports(result.cancel, {
        venues: [{ venue: 'kraken', canceled: null, confirmed: false, attempts: 0, survivors: [],
          errors: [`this process has no Kraken key and the database ${databaseFailure(problem?.kind === 'config')}, so the cancel could not be handed to the running bot: orders may remain open on Kraken`],
          handedOff: { requestId: null, by: null, status: 'not_sent' } }],
        allConfirmed: false,
      });
    }
    // Saved when either write reached the disk: the one at the start, or this one.
    const first = await onDisk;
    // What the database did goes with the saved kill: the replay's alert says it, not a guess.
    const database = { error: stateError, configProblem: problem?.kind === 'config' };
    // Kraken not confirmed clear by this process's own cancel: no follow-up can be written now, so the
    // saved kill carries it and its replay writes it with the halt (replay-pending.ts). Confirmed
    // clear, the flag its first entry carried goes.
    const krakenFollowUp = direct && result.cancel.venues.some((v) => v.venue === 'kraken' && !v.confirmed);
    const again = await releaseRunningKill(ctx.config.DATA_DIR, { ...saved, cancelReport: { ...result.cancel }, database, ...(krakenFollowUp ? { krakenFollowUp } : {}) })
      .then((): { error?: string } => ({}), (err: unknown) => {
        ctx.logger.error({ err, killId }, 'kill: could not update its saved copy');
        return { error: describeError(err) };
      });
    if (first.error !== undefined && again.error !== undefined) {
      result.state = 'unsaved';
      result.saveError = again.error;
      delete result.pendingFile;
      delete result.pendingTarget;
      ctx.logger.error({ err: halt.error, killId, saveError: again.error }, `kill: the database ${databaseFailure(problem?.kind === 'config')} and the halt could not be saved in DATA_DIR (${again.error}): it is saved nowhere, only this process is halted`);
    } else {
      ctx.logger.error({ err: halt.error, killId, file: result.pendingFile }, `kill: the database ${databaseFailure(problem?.kind === 'config')}; halt saved to the pending-kill file`);
    }
    // Only when the saved kill says so: its update reached the disk, or the entry written at the start
    // (which carries the follow-up of a kill with the key) did.
    if (krakenFollowUp && (again.error === undefined || first.error === undefined)) {
      result.followUpSaved = true;
      progress('Zero open orders not confirmed: answering NOT CONFIRMED; the cancel goes on once the database takes the saved halt (then as a request for the bot with the Kraken key).');
    }
  }

  // Without the halt in the database there is no fence to read: the kill says what Kraken said (and its state, pending).
  result.ok = result.fence ? confirmedClear(result.cancel.allConfirmed, result.fence) : result.cancel.allConfirmed;
  if (!result.ok && neverLive) result.notClear = neverLiveNotClear(result.cancel.venues, result.fence ?? { waitedMs: 0, unresolved: [] });
  if (!result.ok && result.incidentId !== null && neverLive) {
    // Nothing of this bot is on Kraken and no bot has the key: a follow-up would wait for nobody.
    await recordNeverLiveUnconfirmed(ctx, result, neverLive.nobody);
  } else if (!result.ok && result.incidentId !== null) {
    result.followUp = await keepConfirming(ctx, result, request, startedAt);
    // Said once the request is written (or not), from what was written: who goes on, or that nobody does.
    if (direct) progress(`Zero open orders not confirmed: answering NOT CONFIRMED; ${stillPending(result.followUp)}.`);
    // The checklist shown with the reply is the one after the follow-up marked the cancel item.
    result.checklist = await withDeadline(checklistOf(ctx.db, result.incidentId), ctx.config.KILL_DB_TIMEOUT, 'the database')
      .then((items) => items.map(({ item, label, doneAt, doneBy, state }) => ({ item, label, doneAt, doneBy, state })))
      .catch(() => result.checklist);
  }
  if (neverLive) {
    result.krakenAccess = 'never_live';
    result.notice = neverLiveNotice(neverLive.nobody);
  } else if (!direct) {
    const handedOff = result.cancel.venues.find((v) => v.venue === 'kraken')?.handedOff;
    result.krakenAccess = krakenAccessOf(handedOff, result.followUp);
    result.notice = noKeyNotice(handedOff, result.followUp);
    // The venue says what the notice says: queued for a bot (the follow-up), not "not handed over".
    result.cancel = {
      ...result.cancel,
      venues: result.cancel.venues.map((v) => (v.venue === 'kraken' && v.handedOff ? { ...v, handedOff: queuedHandOff(v.handedOff, result.followUp) } : v)),
    };
  }
  // The log says what the reply says (the same notice and venue reports, once final).
  // Every round in (its own, the bot's for a hand-over): only a venue none of them confirmed is said to be unconfirmed.
  for (const v of result.cancel.venues) if (!v.confirmed) logUnconfirmed(cancelOptions, v, { killId, notice: result.notice });
  if (result.notice) ctx.logger.warn({ killId, krakenAccess: result.krakenAccess, notice: result.notice }, 'kill: Kraken, as the reply says it');
  if (!result.alreadyKilled || !result.ok) await raiseKillAlert(ctx, request, result);
  // A later kill joined the open incident and confirmed zero open orders: an earlier kill's "could
  // not be confirmed" group is over (a Slack retry of one kill, replayed, confirms nothing new).
  else if ('outcome' in halt && !halt.outcome.replayed) await resolveKillAlert(ctx, request, result);
  if (request.flatten) result.flatten = await flatten(ctx, request.actor, result);
  if (request.flatten && !result.flatten?.ok) result.ok = false;
  await dropped;
  return result;
}

/**
 * Tells the process running the kill where its halt is while the database has not taken it: saved in
 * DATA_DIR (once fsynced), then what the database did when it failed — at once, not after the cancel.
 */
function tellSaved(ctx: KillDeps, onDisk: Promise<{ error?: string }>, halting: Promise<unknown>, recorded: { halt: boolean }): void {
  const tell = ctx.kill.onHaltSaved;
  if (!tell) return;
  const file = pendingKillPath(ctx.config.DATA_DIR);
  const target = killTargetOf(ctx.config);
  const say = (saved: HaltSaved) => {
    try {
      tell(saved);
    } catch (err) {
      ctx.logger.error({ err }, 'kill: could not say where the halt is saved');
    }
  };
  void onDisk.then((disk) => {
    // The database took the halt before the copy reached the disk: the copy is not where the halt is.
    if (disk.error !== undefined || recorded.halt) return;
    say({ file, target });
    halting.catch((err: unknown) => say({ file, target, database: {
      error: describeError(err), configProblem: databaseProblem(err, ctx.config.DATABASE_URL)?.kind === 'config', ...(err instanceof DeadlineError ? { timedOut: true } : {}),
    } }));
  });
}

/** The incident, its checklist and the cancel's report, now that the halt is in the database. */
async function recordOutcome(ctx: KillDeps, result: KillResult, outcome: PersistOutcome): Promise<void> {
  result.alreadyKilled = outcome.alreadyKilled;
  result.joinedIncident = outcome.joined;
  if (outcome.tookOver) result.haltTakenOver = outcome.tookOver;
  result.incidentId = outcome.incident.id;
  try {
    await withDeadline(recordCancelReport(ctx.db, result.killId, { ...result.cancel, fence: result.fence }), ctx.config.KILL_DB_TIMEOUT, 'the database');
    const items = await withDeadline(checklistOf(ctx.db, outcome.incident.id), ctx.config.KILL_DB_TIMEOUT, 'the database');
    result.checklist = items.map(({ item, label, doneAt, doneBy, state }) => ({ item, label, doneAt, doneBy, state }));
    // Posted beside the reply, not before it; a process without a poster leaves it to the running bot's halt watcher.
    const poster = ctx.kill.incidentPoster;
    if (!outcome.joined && poster) {
      announceIncident(ctx, outcome.incident.id, poster).catch((err) => ctx.logger.error({ err }, 'kill: could not post the incident thread'));
    }
  } catch (err) {
    // The halt is written; only the incident's details could not be read back.
    ctx.logger.error({ err, killId: result.killId }, 'kill: halt written, but the incident checklist could not be read');
  }
}

/**
 * The operator's wait is over but Kraken is not confirmed clear: cancelling never stops there. The
 * running bot with the key goes on (wait for orders still on their way, cancel, confirm), and the
 * incident's cancel item shows pending until it answers done or failed (engine-requests/handlers.ts).
 * Whether such a bot runs is read from the engine lease, so the reply says which: a bot that will
 * pick it up now, or none — then the request waits CANCEL_ALL_STALE_MS for one to start, and an
 * incident read past that closes it failed (incident.ts).
 */
async function keepConfirming(ctx: KillDeps, result: KillResult, request: KillRequest, startedAt: number): Promise<KillResult['followUp']> {
  const incidentId = result.incidentId!;
  try {
    const seconds = Math.round(ctx.config.KILL_CONFIRM_WAIT / 100) / 10;
    const written = await followUpOnCancelItem(ctx, {
      incidentId, killId: result.killId, actor: request.actor.id, reason: request.reason, startedAt,
      lead: `Zero open orders not confirmed within ${seconds} s of the kill`,
      reopenedBy: `a later kill (${result.killId})`,
    });
    const { requestId, joined, runningBot, keylessBot, engine, who } = written;
    // runningBot is the running bot WITH the key; a running bot without it is keylessBot (as the reply names it).
    ctx.logger.warn({ killId: result.killId, requestId, joined, runningBot, keylessBot, engine, who }, runningBot
      ? 'kill: not confirmed in time; the confirmation is handed on to the running bot with the Kraken key'
      : keylessBot
        ? 'kill: not confirmed; the running bot has no Kraken key, so the cancel is queued in the database until a bot with the key takes it'
        : 'kill: not confirmed; the cancel is queued in the database until a bot with the Kraken key takes it');
    return killFollowUpOf(written);
  } catch (err) {
    ctx.logger.error({ err, killId: result.killId }, 'kill: could not hand the confirmation on to the running bot');
    return { error: describeError(err) };
  }
}

/**
 * A never-live keyless kill (no bot has the Kraken key, no live order ever in the ledger) that could
 * not confirm paper clear, or the orders on their way: no follow-up is written (it cancels only on
 * Kraken, where nothing of this bot is, for a bot with the key, which none has), so the incident's
 * cancel item says what is not confirmed and ends failed — reopened first when an earlier kill ticked
 * it — instead of pending on a request nobody takes.
 */
async function recordNeverLiveUnconfirmed(ctx: KillDeps, result: KillResult, nobody: string): Promise<void> {
  const incidentId = result.incidentId!;
  const { why, next } = result.notClear!;
  const summary = `The kill could not confirm zero open orders: ${why}. ${neverLiveNotice(nobody)} Nothing is queued for a bot (it would cancel only on Kraken): ${next}.`;
  try {
    await withDeadline(reopenChecklistItemRecord(ctx, {
      incidentId, item: 'cancel_orders', outcome: { summary: `Reopened: a later kill (${result.killId}) could not confirm zero open orders.` },
    }), ctx.config.KILL_DB_TIMEOUT, 'the database');
    await withDeadline(markChecklistAttempt(ctx, { incidentId, item: 'cancel_orders', state: 'failed', outcome: { summary, krakenAccess: 'never_live' } }),
      ctx.config.KILL_DB_TIMEOUT, 'the database');
    result.checklist = await withDeadline(checklistOf(ctx.db, incidentId), ctx.config.KILL_DB_TIMEOUT, 'the database')
      .then((items) => items.map(({ item, label, doneAt, doneBy, state }) => ({ item, label, doneAt, doneBy, state })));
  } catch (err) {
    ctx.logger.error({ err, killId: result.killId }, 'kill: could not record on the incident that zero open orders were not confirmed');
  }
}

/** Said in the reply when a live group was resolved (the group's id from the pipeline), never otherwise. */
async function resolveKillAlert(ctx: KillDeps, request: KillRequest, result: KillResult): Promise<void> {
  if (result.incidentId === null || !ctx.alerts.resolve) return;
  const confirmed = zeroOpenConfirmedPhrase(result.cancel.venues, result.krakenAccess);
  const group = await withDeadline(ctx.alerts.resolve({
    fingerprint: `kill:${result.incidentId}`, by: request.actor.id, note: `a later kill (${result.killId}): ${confirmed}`,
  }), ctx.config.KILL_DB_TIMEOUT, 'the alert pipeline').catch((err: unknown) => {
    ctx.logger.error({ err }, 'kill: could not resolve the earlier kill alert');
    return null;
  });
  if (typeof group === 'number') {
    result.resolvedAlert = { group, confirmed };
    ctx.logger.warn({ killId: result.killId, incidentId: result.incidentId, alertGroup: group }, `kill: the earlier kill alert (group ${group}) is resolved: ${confirmed}`);
  }
}

/**
 * The kill's alert title: what is confirmed and what is not. "Trading halted" only once the database
 * holds the halt; a halt saved only in DATA_DIR is said as such, pending until it is written (one
 * saved nowhere, as held by the process that killed alone while it runs — by nothing once `ctb kill` exits), with
 * the venues that could not be confirmed clear (none was handed on: without the database there is no
 * follow-up yet — a saved one goes on once the database takes the saved kill).
 */
function killAlertTitle(result: KillResult, killer: Killer): string {
  if (result.state !== 'written') {
    const unconfirmed = result.cancel.venues.filter((v) => !v.confirmed);
    const cancel = unconfirmed.length === 0
      ? clearCancelPhrase(result.cancel.venues, result.krakenAccess)
      : `open orders on ${unconfirmed.map((v) => v.venue).join(' and ')} could not be confirmed cancelled${unconfirmed.some((v) => v.venue === 'kraken')
        ? ` — ${result.followUpSaved ? savedFollowUpPhrase(result.stateConfigProblem !== undefined) : stillPending(result.followUp)}` : ''}`;
    return `Kill switch: ${cancel}; ${result.state === 'pending' ? localHaltPhrase(result.stateConfigProblem !== undefined, result.stateTimedOut) : unsavedHaltPhrase(result.stateConfigProblem !== undefined, result.stateTimedOut, killer)}`;
  }
  if (result.ok) return `Kill switch: trading halted, ${clearCancelPhrase(result.cancel.venues, result.krakenAccess)}`;
  // Never live here: nothing of this bot is on Kraken and nothing goes on cancelling there — what is not confirmed is said instead.
  if (result.notClear && result.fence) {
    const { why, next } = result.notClear;
    return `Kill switch: trading halted, but zero open orders could not be confirmed — ${why}; nothing of this bot is on Kraken and nothing is queued: ${next}`;
  }
  return `Kill switch: trading halted, but open orders could not be confirmed cancelled — ${stillPending(result.followUp)}`;
}

async function raiseKillAlert(ctx: KillDeps, request: KillRequest, result: KillResult): Promise<void> {
  const survivors = result.cancel.venues.flatMap((v) => v.survivors.map((s) => ({ venue: v.venue, ...s })));
  const inFlight = result.fence?.unresolved ?? [];
  try {
    await withDeadline(
      ctx.alerts.raise({
        source: 'kill',
        severity: 'critical',
        // `ctb kill` exits once it has answered: its own latch halts nothing after that.
        title: killAlertTitle(result, request.actor.source === 'cli' ? 'cli' : 'running'),
        fingerprint: `kill:${result.incidentId ?? result.killId}`,
        details: { killId: result.killId, by: request.actor.id, reason: request.reason, trigger: request.trigger, state: result.state,
          incidentId: result.incidentId, survivors, krakenAccess: result.krakenAccess, ordersInFlight: inFlight,
          ...(result.followUp && 'requestId' in result.followUp ? { confirmationContinues: `request #${result.followUp.requestId}` } : {}),
          errors: result.cancel.venues.flatMap((v) => v.errors.slice(-2).map((e) => `${v.venue}: ${e}`)) },
      }),
      ctx.config.KILL_DB_TIMEOUT, 'the alert pipeline');
  } catch (err) {
    ctx.logger.error({ err }, 'kill: could not raise the kill alert');
  }
}

// Through the incident's close-positions item: flattened by the engine's process, or shown pending.
async function flatten(ctx: KillDeps, actor: Actor, result: KillResult): Promise<FlattenOutcome> {
  try {
    return await closePositionsAfterKill(ctx, actor, result.incidentId);
  } catch (err) {
    return { ok: false, summary: `Closing positions failed: ${describeError(err)}` };
  }
}
