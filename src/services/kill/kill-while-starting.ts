// Owns a kill taken while the bot's start waits for its database (its migrations, a database that
// went away during them, another process's migration holding the lock): no context exists yet — no
// schema known to be current, no command log, no latch, no part running. It does what `ctb kill`
// does when no database takes the halt: with the Kraken key (armed or not: cancelling needs no
// arming) Kraken's CancelAll leaves at once and the kill's own rounds confirm zero open orders on
// Kraken alone (cancel-on-kraken-alone.ts); beside it the kill is saved in DATA_DIR (pending-kill.ts),
// and the kill part's halt watcher writes it to the database (replay-pending.ts) when the start goes
// on, before the engine starts — with its follow-up on Kraken when zero open orders were not
// confirmed. Paper orders are rows of that database: not reached. The answer says what happened.
import type { Config } from '../../config/env.js';
import type { Actor } from '../../domain/actor.js';
import type { HandedOff } from '../../domain/kraken-handoff.js';
import { cancelledPhrase, confirmedClearPhrase, lostAnswersPhrase } from '../../domain/kraken-handoff.js';
import type { Exchange } from '../../exchange/types.js';
import type { Logger } from '../../logger.js';
import { type CancelReport, type VenueCancelReport } from './cancel-everywhere.js';
import { cancelOnKrakenAlone } from './cancel-on-kraken-alone.js';
import { describeError } from './deadline.js';
import { krakenFailure, krakenWithEarlyCancel } from './early-cancel.js';
import { killTargetOf } from './kill-target.js';
import { killIdFor } from './kill.js';
import { pendingKillPath, releaseRunningKill, saveRunningKill, type PendingKill } from './pending-kill.js';
import type { FlattenOutcome } from './runtime.js';

export interface StartingKillDeps {
  config: Config;
  logger: Logger;
  /** Kraken's client with its CancelAll already sent; undefined without a key (default: `ctb kill`'s, krakenWithEarlyCancel). Throws when it cannot be built. */
  kraken?: (abandon: AbortSignal) => Exchange | undefined;
}

export interface StartingKillRequest {
  actor: Actor;
  reason: string;
  flatten?: boolean;
}

/** What a kill taken during the start's wait answers: the fields a kill's answer has, as far as they are known now. */
export interface StartingKillResult {
  /** Every venue confirmed zero open orders (never while paper's orders are out of reach) and nothing asked failed. */
  ok: boolean;
  killId: string;
  /** The start waits for its database: nothing of this kill is in it yet. */
  starting: true;
  krakenAccess: 'direct' | 'not_handed_off';
  cancel: CancelReport;
  /** pending: saved in pendingFile, written when the start goes on; unsaved: DATA_DIR refused it (saveError), held only by this process. */
  state: 'pending' | 'unsaved';
  pendingFile?: string;
  pendingTarget?: string;
  saveError?: string;
  /** Kraken not confirmed clear: the saved kill carries the follow-up, handed on to the bot with the key when it is written. */
  followUpSaved?: boolean;
  flatten: FlattenOutcome | null;
  /** What happened, in words: Kraken, paper, the halt, what comes next. */
  message: string;
}

const PAPER_NOT_REACHED = 'paper orders are kept in the database, which the start is waiting for: not cancelled by this kill';
const NO_KEY = 'this process has no Kraken key, and handing the cancel to the bot that has it goes through the database, which the start is waiting for: not handed over';
const FLATTEN_NOT_DONE = 'Positions NOT closed: closing them needs the database and the engine, which have not started yet; ask again once the bot has started.';

const notReached = (venue: 'kraken' | 'paper', error: string, handedOff?: HandedOff): VenueCancelReport => ({
  venue, canceled: null, confirmed: false, attempts: 0, survivors: [], errors: [error], ...(handedOff ? { handedOff } : {}),
});

/** Kraken's part of the answer: what its cancels did, as `ctb kill` says it. */
function krakenLine(report: VenueCancelReport, direct: boolean): string {
  if (!direct) return `Kraken: NOT cancelled — ${NO_KEY}; once the saved halt is written, a running bot with the key cancels on Kraken when it reads it. Until then orders may remain open on Kraken.`;
  const lost = report.lostAnswers ?? [];
  if (report.confirmed) return `Kraken: ${confirmedClearPhrase(report)}.`;
  const left = report.survivors.length > 0 ? `${report.survivors.length} still open` : 'zero open orders NOT CONFIRMED';
  const why = report.errors.length > 0 ? ` (${report.errors.at(-1)!.replace(/\.$/, '')})` : '';
  return `Kraken: ${cancelledPhrase(report)}${lost.length > 0 ? ` (${lostAnswersPhrase(lost)})` : ''}, ${left}${why}: orders may remain open on Kraken.`;
}

function haltLine(result: Pick<StartingKillResult, 'state' | 'pendingFile' | 'saveError' | 'followUpSaved'>): string {
  const followUp = result.followUpSaved ? ' With it the cancel on Kraken is handed on to the bot with the key, as a follow-up.' : '';
  if (result.state === 'pending') {
    return `Halt: saved in DATA_DIR (${result.pendingFile}), NOT yet in the database — the bot's start is waiting for it; the saved halt is written when the start goes on, `
      + `before any part of the bot trades.${followUp} Meanwhile no part of this bot runs.`;
  }
  return `Halt: NOT saved — DATA_DIR refused it (${result.saveError}) and the database does not take it yet: only this process holds it, as a halt it starts with; `
    + 'a restart forgets it. Run the kill again once the bot has started, or `ctb kill` from a shell.';
}

/**
 * The kill, during the start's wait: Kraken's cancel and the kill's saved copy leave together, neither
 * waiting for the other; answered once Kraken's rounds are over (KILL_CONFIRM_WAIT and one call's
 * deadline at most) and the copy is on disk (or refused).
 */
export async function killWhileStarting(deps: StartingKillDeps, request: StartingKillRequest, onSaving?: (saving: Promise<unknown>) => void): Promise<StartingKillResult> {
  const { config, logger } = deps;
  const killId = killIdFor(request.actor);
  const reason = request.reason.trim() || 'no reason given';
  const abandon = new AbortController();
  let kraken: Exchange | undefined;
  let unbuilt: string | undefined;
  try {
    kraken = (deps.kraken ?? ((signal) => krakenWithEarlyCancel(config, logger, signal)))(abandon.signal);
  } catch (err) {
    unbuilt = krakenFailure(err, config);
    logger.error({ err, killId }, 'kill during the start: could not build the Kraken client');
  }
  const direct = kraken !== undefined || unbuilt !== undefined;
  logger.warn({ killId, actor: request.actor.id, reason, direct }, 'kill during the start, while it waits for the database: cancelling on Kraken and saving the halt in DATA_DIR');
  const cancelling: Promise<VenueCancelReport> = kraken
    ? cancelOnKrakenAlone(kraken, config, logger)
    : Promise.resolve(unbuilt !== undefined
      ? notReached('kraken', `nothing was sent to Kraken: its client could not be built (${unbuilt})`)
      : notReached('kraken', NO_KEY, { requestId: null, by: null, status: 'not_sent' }));
  const saved: Omit<PendingKill, 'owner'> = {
    killId, at: new Date().toISOString(), actor: request.actor.id, actorSource: request.actor.source, trigger: 'manual', reason, cancelReport: {},
    target: killTargetOf(config),
  };
  // Owned for as long as the kill can take to answer: a replay meanwhile leaves the entry to it.
  const ownedForMs = config.KILL_CONFIRM_WAIT + config.KILL_CALL_TIMEOUT + 10_000;
  const first = saveRunningKill(config.DATA_DIR, direct ? { ...saved, krakenFollowUp: true } : saved, ownedForMs)
    .then((): { error?: string } => ({}), (err: unknown) => ({ error: describeError(err) }));
  onSaving?.(first);
  let krakenReport: VenueCancelReport;
  try {
    krakenReport = await cancelling.catch((err: unknown) => notReached('kraken', describeError(err)));
  } finally {
    // Kraken's rounds are over: a call they gave up on is given up for good.
    abandon.abort();
  }
  const cancel: CancelReport = { venues: [krakenReport, notReached('paper', PAPER_NOT_REACHED)], allConfirmed: false };
  const followUp = direct && !krakenReport.confirmed;
  const again = await releaseRunningKill(config.DATA_DIR, { ...saved, cancelReport: { ...cancel }, ...(followUp ? { krakenFollowUp: true } : {}) })
    .then((): { error?: string } => ({}), (err: unknown) => ({ error: describeError(err) }));
  const onDisk = (await first).error === undefined || again.error === undefined;
  const result: StartingKillResult = {
    ok: false, killId, starting: true, krakenAccess: direct ? 'direct' : 'not_handed_off', cancel,
    state: onDisk ? 'pending' : 'unsaved',
    ...(onDisk ? { pendingFile: pendingKillPath(config.DATA_DIR), pendingTarget: killTargetOf(config) } : { saveError: again.error ?? 'unknown' }),
    ...(onDisk && followUp ? { followUpSaved: true } : {}),
    flatten: request.flatten ? { ok: false, summary: FLATTEN_NOT_DONE } : null,
    message: '',
  };
  result.message = [krakenLine(krakenReport, direct), `Paper: NOT cancelled — ${PAPER_NOT_REACHED}.`, haltLine(result), ...(request.flatten ? [FLATTEN_NOT_DONE] : [])].join(' ');
  logger.warn({ killId, kraken: krakenReport, ...(onDisk ? { file: result.pendingFile } : { saveError: result.saveError }) }, `kill during the start: ${result.message}`);
  return result;
}

/**
 * The kills taken while the start waits, handed over to the context once it exists: a kill's saved
 * copy is on disk before the kill part's halt watcher first reads DATA_DIR (it latches and writes what
 * it finds there), and a kill DATA_DIR refused is latched in the context itself — the halt this
 * process starts with, since nothing else holds it.
 */
export class StartingKills {
  readonly #saving = new Set<Promise<unknown>>();
  #unsaved: Array<{ reason: string; killId: string }> = [];
  #latch: ((reason: string, killId: string) => void) | null = null;

  constructor(private readonly deps: StartingKillDeps) {}

  async kill(request: StartingKillRequest): Promise<StartingKillResult> {
    const result = await killWhileStarting(this.deps, request, (saving) => {
      this.#saving.add(saving);
      void saving.finally(() => this.#saving.delete(saving));
    });
    if (result.state === 'unsaved') {
      const reason = request.reason.trim() || 'no reason given';
      if (this.#latch) this.#latch(reason, result.killId);
      else this.#unsaved.push({ reason, killId: result.killId });
    }
    return result;
  }

  /** The start goes on with its context: the kills DATA_DIR refused are latched there, and the saves in flight waited for. */
  async handOver(latch: (reason: string, killId: string) => void): Promise<void> {
    this.#latch = latch;
    for (const { reason, killId } of this.#unsaved) latch(reason, killId);
    this.#unsaved = [];
    await Promise.all([...this.#saving]);
  }
}
