// Owns self-heal (`ctb self-heal` and the running bot's watchdog): find what is broken — the
// database, the exchange the bot trades on, the engine's heartbeat, a kill still waiting for the
// database — and repair what a program can: retry with exponential backoff until the database or
// the exchange answers again, then write saved kills and resync open orders and order intents
// from the exchange (the reconcile the engine runs at start). Every action raises an alert (the
// watchdog: a lasting failure again only every TRANSIENT_PAGE_AFTER_MS, see below).
// It never lifts a halt: a halted bot stays halted whatever self-heal finds.
// Kraken refusing for a venue-wide, passing reason — its rate limit, maintenance, cancel_only or
// post_only — is not something a program repairs by asking harder: the check is `deferred` (a
// warning; not retried within the run, since every refused call counts on Kraken's counter): the
// watchdog runs it again on its next pass; a one-off `ctb self-heal` has no next pass, so it says
// when to run it again. It becomes `failed` (critical) only once the same check has been
// deferred for TRANSIENT_PAGE_AFTER_MS (15 minutes) without a pass in between — a limit that long
// means something keeps Kraken's counter full, or a maintenance outlasted Kraken's usual windows.
// A live reconciliation waits for orders in flight, and for those sent while it read Kraken, until
// their fills are booked: the watchdog owes it to a later pass (which counts them again, without
// resyncing, and reconciles once none is in flight; it pages once that has been owed for
// TRANSIENT_PAGE_AFTER_MS, under an alert of its own); a one-off run leaves the ledger unreconciled
// (deferred) and says to run it again. An order resting in Kraken's book with its fills booked is not
// in flight; if it fills between the probe and the reconciliation's read of Kraken's trades,
// differences that are only its new trades (filled-while-reconciling.ts) are owed to a later pass in
// the same way, never called ok. A count of orders in flight the database did not give is not
// "none": the watchdog owes the reconciliation as for orders in flight; a one-off run's reconcile
// check fails (exit 1).
// The order lock held by another holder is not a failure either, but the intents are then left
// unresolved: `busy` (nobody paged), which leaves the run not ok. A `ctb self-heal` that only
// Kraken's passing refusals or the lock's holder kept from its work exits 75: run it again.
// Without the database no exchange is checked: it holds the trading mode and paper's orders, so a
// probe of paper would only ask the database again (and a missing one is asked once, not again).
// A database that answers but does not give the bot_state row leaves an armed process's trading mode
// unknown: nothing that depends on it is done on a guess (no venue probed, no intent resolved, no
// reconciliation), and the run is not ok — a one-off run fails the exchange check (exit 1); the
// watchdog reads it again on its next pass and pages once it has been unread for TRANSIENT_PAGE_AFTER_MS.
// What is at stake is read from the database, not from this process's IS_LIVE (live-at-stake.ts): an
// engine that trades live, or live intents and positions the ledger holds, are checked on Kraken —
// by this process when it is armed and has the keys, and otherwise not at all: a shell without
// IS_LIVE (or without the keys) checks no paper venue in their place and reports no ok for them:
// the exchange check fails (exit 1), saying why Kraken was not asked and who does ask it. What
// cannot be read (the lease, live intents, positions) leaves the trading mode unread, as below. The
// watchdog of an engine that cannot ask Kraken, while only the ledger puts live at stake (an armed live
// engine stopped and left orders or positions; this one trades paper), checks its paper venue as on
// any pass, and pages about the live ones saying to restart the worker armed: once while that alert
// stays open or acknowledged, and anew once it was resolved while they stay.
// The watchdog raises a check's failure (or deferral) when it starts, and again every
// TRANSIENT_PAGE_AFTER_MS while it lasts: every pass still reports it (terminal, logs), but raising on
// every pass would post into the alert's thread each pass, and raising it only once would leave a
// page resolved as a blip while the failure goes on (orders stuck in flight, a stale engine) silent
// for as long as it lasts. So an open alert gets at most one "Again:" reply per 15 minutes, and one
// resolved while the failure lasts pages anew within 15 minutes. The check ok again (or repaired)
// forgets it, and the next failure alerts at once.
import type { Config } from '../../config/env.js';
import type { Database } from '../../db/client.js';
import { databaseProblem } from '../../db/connect-errors.js';
import { engineHeartbeatAgeMs } from '../../db/queries/bot-state-row.js';
import { pingDatabase } from '../../db/queries/ping.js';
import { liveAlertGroupId } from '../../db/queries/alert-groups.js';
import { liveIntentsMark, unresolvedIntents } from '../../engine/ledger/intents.js';
import { tryOrderLock } from '../../engine/order-lock.js';
import { resolveIntents } from '../../engine/recovery.js';
import type { ExchangeProvider } from '../../exchange/provider.js';
import type { OrderState } from '../../exchange/types.js';
import { liveFillsOfIntent } from '../../db/queries/ledger-trades.js';
import { Decimal } from '../../money.js';
import { venueWideRefusal } from '../../exchange/errors.js';
import { readOnlyExchange } from '../../exchange/read-only.js';
import { retry } from '../../retry.js';
import { reconcile as reconcileLedger, type ReconcileDeps, type ReconcileReport } from '../reconcile/reconcile.js';
import type { BotState } from '../../db/schema/index.js';
import { BALANCE_TOLERANCE } from '../reconcile/balances.js';
import { filledWhileReconciling, shortfalls, type FilledWhileReconciling, type ReconcileDifferences, type RestingAtProbe } from './filled-while-reconciling.js';
import { effectiveMode, getBotState, type Mode } from '../bot-state.js';
import { liveAtStake, STAKE_READS, type LiveAtStake } from './live-at-stake.js';
import { databaseFailure } from '../../domain/local-halt.js';
import { DeadlineError, describeError, sleep as realSleep, withDeadline } from '../kill/deadline.js';
import { readPendingKills } from '../kill/pending-kill.js';
import { replayPendingKills, type ReplayDeps } from '../kill/replay-pending.js';
import { LIVE_LEFT_FINGERPRINT } from '../../domain/live-left-open.js';

/**
 * Self-heal: what writing a saved kill needs, what the engine's resync of intents and the ledger's
 * reconciliation need, the order lock's database, the exchanges it probes, and the arming and
 * heartbeat limit it judges by.
 */
export type SelfHealDeps = ReplayDeps & Parameters<typeof resolveIntents>[0]['ctx'] & ReconcileDeps & {
  database: Database;
  exchanges: ExchangeProvider;
  config: Pick<Config, 'IS_LIVE' | 'ENGINE_STALE_AFTER' | 'ENGINE_LEASE_TTL' | 'KILL_DB_TIMEOUT' | 'DATA_DIR' | 'DATABASE_URL'>;
};

export type HealCheck = 'database' | 'pending_kill' | 'exchange' | 'intents' | 'reconcile' | 'engine';

/** A trading mode not read: what was not (operator words, for the detail) and the next step once it lasts. */
interface ModeUnread {
  what: string;
  find: string;
}

export interface HealAction {
  check: HealCheck;
  /**
   * ok: nothing wrong; healed: was broken, repaired; failed: still broken (alerted, critical);
   * deferred: Kraken refused for a passing, venue-wide reason (rate limit, maintenance), intents
   * were left unresolved, or (exchange) the watchdog could not read the trading mode — the watchdog
   * tries again on its next pass, a one-off run says to run it again (warning); busy: not done
   * because another holder has the order lock — nothing found broken, nobody paged, but the run is
   * not ok until a run takes the lock; skipped: could not check.
   */
  status: 'ok' | 'healed' | 'failed' | 'deferred' | 'busy' | 'skipped';
  detail: string;
  attempts?: number;
  /** Set when Kraken refused for a venue-wide, passing reason: which (rate_limited, exchange_unavailable, exchange_maintenance). */
  refusedFor?: string;
  /**
   * Set when the check waits only for something that passes by itself: fills_booked — a live order
   * is still in flight, or went out, was booked or (resting in the book) filled while reconciling,
   * and its fills at Kraken are not in the ledger yet.
   */
  waitingFor?: 'fills_booked';
}

export interface SelfHealResult {
  ok: boolean;
  /** bot_state.halted as found (null when the database did not give it). Self-heal never changes it. */
  halted: boolean | null;
  actions: HealAction[];
  /**
   * The database cannot be used as configured (it does not exist, the login is refused, the host is
   * unknown): no retry repairs that, only a change of DATABASE_URL or of the server (the CLI exits 2).
   */
  configurationError: string | null;
}

export interface SelfHealOptions {
  /** Tries per check before it counts as failed (each waits baseDelayMs·2^n). */
  attempts?: number;
  baseDelayMs?: number;
  sleep?: (ms: number) => Promise<void>;
  /** Resync open orders and intents even when the exchange answered at once (the CLI does). */
  alwaysResync?: boolean;
  /**
   * The ledger-against-Kraken reconciliation run after a live resync (default: the reconcile service,
   * read-only). Without its lists of differences, none of them can be told to be timing.
   */
  reconcile?: (ctx: SelfHealDeps) => Promise<Pick<ReconcileReport, 'ok' | 'summaryLine' | 'reportFile'> & Partial<ReconcileDifferences>>;
  /**
   * Whether to probe the exchange now (default yes). The watchdog probes only in the worker that
   * trades: one Kraken key must not be used by several processes at once (nonces).
   */
  checkExchange?: () => boolean;
  /**
   * Since when (clock ms) each check has been deferred without a pass in between, and whether the
   * intents were left unresolved (the order lock was taken, or resolving them failed: 'intents'), and
   * since when a live reconciliation has been owed because orders were in flight, or could not be
   * counted ('reconcile_owed'), and since when an armed process could not read the trading mode ('mode').
   * The watchdog keeps one across its runs; any entry makes the next run resync and reconcile again,
   * but for reconcile_owed alone, which makes it count the orders in flight again and reconcile once none is.
   */
  deferredSince?: Map<DeferredWork, number>;
  /**
   * When (clock ms) each alert of a check's current failure was last raised (and of the period a
   * reconciliation has been owed, or the trading mode unread): the watchdog keeps it across its runs
   * beside deferredSince, so a lasting failure is raised again only once TRANSIENT_PAGE_AFTER_MS has
   * passed since, not on every pass (each repeat posts into the alert's thread, or pages anew once it
   * was resolved). The check ok again (or repaired, or the owed work done, or the mode read) clears
   * its entries, and a new failure alerts at once.
   */
  raised?: Map<RaisedAlert, number>;
  /**
   * The owed periods (deferredSince's entries) this watchdog continues from an earlier engine process:
   * a restarted worker's previous life, or another host that held the engine lease (the clocks kept in
   * the database, watchdog-clocks.ts). A page of one, past the bound, says the clock began there.
   */
  carriedOver?: ReadonlyMap<DeferredWork, ClockOrigin>;
  /**
   * Who runs this pass: the running bot's watchdog, which runs it again every WATCHDOG_INTERVAL (what
   * it leaves is tried again on its next pass), or a one-off `ctb self-heal` (the default), which has
   * no next pass: what it leaves, the operator runs again.
   */
  runBy?: 'watchdog' | 'once';
}

/**
 * What a pass can leave to the next one: a deferred check, intents not resolved (the order lock was
 * taken, or resolving failed), a reconciliation skipped while orders were in flight or could not be
 * counted (reconcile_owed: kept apart from 'reconcile', whose time bounds Kraken's refusals of it),
 * or the exchange left unchecked because the trading mode could not be read (mode).
 */
export type DeferredWork = HealCheck | 'intents' | 'reconcile_owed' | 'mode' | 'live_left';

/**
 * The work only the process that checks the exchange (holds the engine lease) does, or leaves owed;
 * live_left is only ever raised (the watchdog of an engine that cannot ask Kraken: paged while its alert is not open).
 */
export const EXCHANGE_WORK: readonly DeferredWork[] = ['exchange', 'intents', 'reconcile', 'reconcile_owed', 'mode', 'live_left'];

/** The alert group of live orders or positions left unchecked by the watchdog of an engine that cannot ask Kraken. */
export { LIVE_LEFT_FINGERPRINT };

/** When (clock ms) an owed period began, and in which process (host:pid). */
export interface ClockOrigin {
  at: number;
  by: string;
}

/** An alert raised for some work (a check, owed work, the unread mode) with a status, in its current failure. */
export type RaisedAlert = `${DeferredWork}:${HealAction['status']}`;

/**
 * How long a check may stay deferred (Kraken's rate limit or maintenance), or a reconciliation owed,
 * before it pages; and how often the watchdog raises a failure again while it lasts.
 */
export const TRANSIENT_PAGE_AFTER_MS = 15 * 60_000;

async function withBackoff<T>(
  what: () => Promise<T>,
  opts: Required<Pick<SelfHealOptions, 'attempts' | 'baseDelayMs' | 'sleep'>>,
  /** A failure no retry repairs: given up at once. */
  hopeless: (err: unknown) => boolean = () => false,
): Promise<{ value?: T; attempts: number; errors: string[]; lastError?: unknown }> {
  const errors: string[] = [];
  let attempts = 0;
  try {
    const value = await retry((attempt) => {
      attempts = attempt;
      return what();
    }, {
      attempts: opts.attempts, backoff: { baseMs: opts.baseDelayMs }, sleep: opts.sleep, onFailure: (err) => errors.push(describeError(err)),
      // Each call Kraken refuses counts on its REST counter (and, over the limit, keeps the limit up):
      // a venue-wide refusal is asked again on the next pass, not within this one.
      retryable: (err) => venueWideRefusal(err) === null && !hopeless(err),
    });
    return { value, attempts, errors };
  } catch (lastError) {
    return { attempts, errors, lastError };
  }
}

/**
 * When a one-off run's operator runs it again after Kraken refused for `reason`. Kraken's refusals
 * carry no time to wait: its call counter falls by itself, and a maintenance lasts until its status is online.
 */
export function runAgainAfter(reason: string): string {
  return reason === 'rate_limited'
    ? "run `ctb self-heal` again in a minute or so, once the API key's call counter has fallen (every process using the key counts on it; Kraken gives no time to wait)"
    : "run `ctb self-heal` again once Kraken's system status is online (Kraken gives no time to wait)";
}

/** Raises the action's alert (grouped by `topic`, its check by default); false if it could not be raised. */
async function alert(ctx: SelfHealDeps, action: HealAction, nextPass: boolean, topic: string = action.check): Promise<boolean> {
  if (action.status === 'ok' || action.status === 'skipped' || action.status === 'busy') return true;
  // Only the watchdog retries by itself: a one-off run's deferral waits for its operator.
  const deferred = nextPass ? 'will retry' : 'deferred';
  return withDeadline(ctx.alerts.raise({
    source: 'self_heal', severity: action.status === 'failed' ? 'critical' : 'warning',
    title: `Self-heal ${{ failed: 'could not repair', deferred, healed: 'repaired' }[action.status]} ${action.check}: ${action.detail}`.slice(0, 300),
    fingerprint: `self-heal:${topic}:${action.status}`, details: { ...action },
  }), ctx.config.KILL_DB_TIMEOUT, 'the alert pipeline').then(() => true, (err: unknown) => {
    ctx.logger.error({ err, action }, 'could not raise the self-heal alert');
    return false;
  });
}

export async function selfHeal(ctx: SelfHealDeps, options: SelfHealOptions = {}): Promise<SelfHealResult> {
  const opts = { attempts: options.attempts ?? 5, baseDelayMs: options.baseDelayMs ?? 500, sleep: options.sleep ?? realSleep };
  const timeout = ctx.config.KILL_DB_TIMEOUT;
  const actions: HealAction[] = [];
  const deferredSince = options.deferredSince ?? new Map<DeferredWork, number>();
  const raised = options.raised ?? new Map<RaisedAlert, number>();
  /** `work` is fine again: its alerts are forgotten, and its next failure alerts at once. */
  const endEpisode = (work: DeferredWork) => {
    for (const key of raised.keys()) if (key.startsWith(`${work}:`)) raised.delete(key);
  };
  /** The owed reconciliation was run (or given up, or is not due while paper): its period, and its page, end. */
  const settleOwed = () => {
    deferredSince.delete('reconcile_owed');
    endEpisode('reconcile_owed');
  };
  // Only the watchdog has a next pass to leave work to.
  const nextPass = options.runBy === 'watchdog';
  /** The bound `work`'s period (since `since`) is past, and where its clock began when another process began it. */
  const limit = (work: DeferredWork, since: number | undefined) => {
    const from = options.carriedOver?.get(work);
    const carried = from && from.at === since ? `; its clock began in the engine process ${from.by} and goes on here` : '';
    return `(limit ${TRANSIENT_PAGE_AFTER_MS / 60_000} min${carried})`;
  };
  /**
   * Alerts on `action` for `work`: a failure or deferral when it starts, then again only once
   * TRANSIENT_PAGE_AFTER_MS has passed since it was last raised (every pass still reports it); a raise
   * counts only once the alert pipeline took it. Ok or repaired forgets that work's alerts.
   */
  const raise = async (work: DeferredWork, action: HealAction, topic?: string) => {
    if (action.status === 'ok' || action.status === 'healed') endEpisode(work);
    const key: RaisedAlert = `${work}:${action.status}`;
    const lasting = action.status === 'failed' || action.status === 'deferred';
    const now = ctx.clock.now().getTime();
    const last = raised.get(key);
    if (lasting && last !== undefined && now - last < TRANSIENT_PAGE_AFTER_MS) return;
    if ((await alert(ctx, action, nextPass, topic)) && lasting) raised.set(key, now);
  };
  // Work left by an earlier pass makes this one resync and reconcile again; a reconciliation owed
  // only because orders were in flight does not: resolving them is the engine's fill follower's work,
  // and resyncing on every pass would ask Kraken's private API (balances, orders) each time and race
  // that follower. Such a pass counts what is in flight again (a database read) and reconciles once
  // nothing is.
  const retryDeferred = [...deferredSince.keys()].some((work) => work !== 'reconcile_owed');
  const owedOnly = !retryDeferred && deferredSince.has('reconcile_owed');
  const record = async (action: HealAction) => {
    // A busy check stays owed to the next pass (deferredSince's entry makes it resync); so do intents
    // not resolved, whatever their status, until a pass resolves them.
    if (action.status !== 'deferred' && action.status !== 'busy' && action.check !== 'intents') deferredSince.delete(action.check);
    actions.push(action);
    if (action.status !== 'ok') ctx.logger.warn({ action }, `self-heal: ${action.check} ${action.status}`);
    await raise(action.check, action);
  };

  /** A check Kraken refused for a venue-wide reason: deferred (warning), or failed once that lasted past the bound. */
  const deferOrFail = (check: HealCheck, reason: string, detail: string, attempts?: number): HealAction => {
    const now = ctx.clock.now().getTime();
    const since = deferredSince.get(check) ?? now;
    deferredSince.set(check, since);
    const minutes = Math.round((now - since) / 60_000);
    const base = { check, refusedFor: reason, ...(attempts !== undefined ? { attempts } : {}) };
    return now - since >= TRANSIENT_PAGE_AFTER_MS
      ? { ...base, status: 'failed', detail: `${detail}; Kraken has refused for ${reason} for ${minutes} min ${limit(check, since)}` }
      : { ...base, status: 'deferred', detail: `${detail}; Kraken refuses for now (${reason}): ${nextPass ? 'tried again on the next pass' : runAgainAfter(reason)}` };
  };

  // 1. The database: postgres.js reconnects on the next query, so a retry is the reconnect.
  // A database that is missing, or refuses the login, is not waited for: a retry cannot repair it.
  const misconfigured = (err: unknown) => databaseProblem(err, ctx.config.DATABASE_URL)?.kind === 'config';
  const db = await withBackoff(() => withDeadline(pingDatabase(ctx.db).then(() => true), timeout, 'the database'), opts, misconfigured);
  const dbUp = db.value !== undefined;
  const configurationError = !dbUp && misconfigured(db.lastError) ? databaseProblem(db.lastError, ctx.config.DATABASE_URL)!.userMessage : null;
  await record(dbUp
    ? { check: 'database', status: db.attempts > 1 ? 'healed' : 'ok', attempts: db.attempts, detail: db.attempts > 1 ? `answers again after ${db.attempts} attempts (${db.errors.at(-1)})` : 'answers' }
    : { check: 'database', status: 'failed', attempts: db.attempts, detail: configurationError ?? `no answer after ${db.attempts} attempts: ${db.errors.at(-1)}` });

  // 2. A kill saved while the database was away: write it now (this also latches the halt). None
  // waiting is that check ok: its episode ends.
  if (readPendingKills(ctx.config.DATA_DIR).length === 0) endEpisode('pending_kill');
  else {
    if (!dbUp) {
      await record({ check: 'pending_kill', status: 'failed', detail: 'a saved kill waits for the database; the bot stays halted' });
    } else {
      const replay = await replayPendingKills(ctx);
      await record(replay.error
        ? { check: 'pending_kill', status: 'failed', detail: `${replay.remaining} saved kill(s) not written: ${replay.error}` }
        : replay.elsewhere
          ? { check: 'pending_kill', status: 'failed', detail: `${replay.written.length} saved kill(s) written to the database; ${replay.elsewhere.length} aimed at another database (${[...new Set(replay.elsewhere.map((e) => e.target))].join(', ')}) left for a process on it; the bot stays halted (ctb kill saved lists them; one whose database will never answer again is dropped with --discard)` }
          : { check: 'pending_kill', status: 'healed', detail: `${replay.written.length} saved kill(s) written to the database` });
    }
  }

  let halted: boolean | null = null;
  // The mode the engine trades in; null when an armed process could not read bot_state: live or paper
  // is then not known. Unarmed, the engine trades paper whatever the row says (effectiveMode).
  let mode: Mode | null = 'paper';
  // What was not read that the trading mode needs, and where to look: bot_state, or the reads of live at stake.
  let modeUnread: ModeUnread | null = null;
  // The heartbeat's age on the database's clock, which the engine writes it on: this process's clock
  // may be minutes off the engine's (a web replica, a shell), and would call a live engine stale.
  let heartbeatAgeMs: number | null = null;
  let heartbeatUnread: string | null = null;
  // Live at stake (from the database) that this process cannot check on Kraken: not armed, or no keys.
  // `stored`: the trading mode the database holds, which an armed restart of this engine would trade in.
  let liveNotHere: { stake: LiveAtStake; cannot: string; stored: Pick<BotState, 'mode' | 'halted'> } | null = null;
  // Asked once a run (the watchdog's answer also notes how long this process has stood by). A process
  // that leaves the exchange to the worker that trades reads nothing about it: what is at stake there
  // would be read every pass and used by none.
  const checksExchange = !options.checkExchange || options.checkExchange();
  if (dbUp) {
    let state: BotState | undefined;
    try {
      state = await withDeadline(getBotState(ctx.db), timeout, 'the database');
    } catch (err) {
      heartbeatUnread = describeError(err);
      modeUnread = { what: `the trading mode could not be read (${heartbeatUnread.replace(/\.$/, '')})`, find: 'find why the database does not give the bot_state row' };
      if (ctx.config.IS_LIVE) mode = null;
      ctx.logger.warn({ error: describeError(err) }, 'self-heal: could not read bot_state');
    }
    if (state) {
      halted = state.halted;
      mode = effectiveMode(state, ctx.config.IS_LIVE);
      // Whether live is at stake is the database's to say, not this process's environment (an armed
      // process that trades live by its own reading checks Kraken anyway: nothing more to read).
      if (mode === 'paper' && checksExchange) {
        const progress = { read: 0 };
        try {
          const stake = await withDeadline(liveAtStake(ctx, state, progress), timeout, 'the database');
          const cannot = [ctx.config.IS_LIVE ? null : 'IS_LIVE is not set here', ctx.exchanges.hasKrakenKeys() ? null : 'this process has no Kraken keys'].filter((s) => s !== null);
          if (stake && cannot.length > 0) liveNotHere = { stake, cannot: cannot.join(' and '), stored: state };
          else if (stake) mode = 'live';
        } catch (err) {
          // Not known whether live is at stake: nothing is checked on a guess of paper.
          mode = null;
          // bot_state was read: name the read that failed (and those it left unmade), not bot_state.
          const failed = STAKE_READS[progress.read]!;
          const unmade = STAKE_READS.slice(progress.read + 1).map((r) => r.what);
          modeUnread = {
            what: `whether live is at stake could not be read (${failed.what} could not be read${unmade.length > 0 ? `, so neither ${unmade.join(' nor ')}` : ''}: ${describeError(err).replace(/\.$/, '')})`,
            find: `find why the database does not answer the read of ${failed.what} (table ${failed.table})`,
          };
          ctx.logger.warn({ error: describeError(err) }, 'self-heal: could not read what is live at stake');
        }
      }
      // Read again: the unread mode's period and its page end (the resync it left owed runs now).
      if (mode !== null) {
        deferredSince.delete('mode');
        endEpisode('mode');
      }
      // Nothing live left unchecked (none in the ledger, or this process asks Kraken): that episode ends.
      if (mode !== null && checksExchange && !liveNotHere) endEpisode('live_left');
      try {
        heartbeatAgeMs = state.engineHeartbeatAt ? await withDeadline(engineHeartbeatAgeMs(ctx.db), timeout, 'the database') : null;
      } catch (err) {
        heartbeatUnread = describeError(err);
        ctx.logger.warn({ error: describeError(err) }, 'self-heal: could not read the engine heartbeat');
      }
    }
  }

  // 3. The exchange the bot trades on: probe with backoff, then resync open orders and intents.
  if (!checksExchange) {
    actions.push({ check: 'exchange', status: 'skipped', detail: 'checked by the worker that trades' });
  } else if (!dbUp) {
    // Not recorded as a check of its own: a deferral the watchdog keeps for the exchange stays as it was.
    actions.push({ check: 'exchange', status: 'skipped', detail: `not checked: the database ${databaseFailure(configurationError !== null)}, and it holds the trading mode (and paper's orders)` });
  } else if (liveNotHere && nextPass && liveNotHere.stake.from === 'ledger' && mode === 'paper') {
    await liveLeftUnchecked(liveNotHere.stake, liveNotHere.cannot, liveNotHere.stored);
    await checkExchange(mode);
  } else if (liveNotHere) {
    await krakenNotAskedHere(liveNotHere.stake, liveNotHere.cannot);
  } else if (mode === null) {
    await modeUnknown(modeUnread ?? { what: 'the trading mode could not be read (unknown error)', find: 'find why the database does not give the bot_state row' });
  } else await checkExchange(mode);

  /**
   * Live is at stake but this process cannot ask Kraken (no IS_LIVE, no keys): the paper venue is not
   * checked in its place, nor an ok reported for a live bot nobody here asked about. The exchange
   * check fails (a one-off run exits 1), saying why and who does check Kraken.
   */
  async function krakenNotAskedHere(stake: LiveAtStake, cannot: string): Promise<void> {
    const e = stake.engine;
    // A second process with the engine's Kraken key beside it risks nonce clashes that get the live
    // engine's calls refused (cancels included): suggested only when no engine with the keys checks it.
    const who = e.state === 'running' && e.armed && e.hasKrakenKeys
      ? `the engine's own watchdog (${e.host}:${e.pid}) checks it: read its alerts and logs rather than run a second process with the same Kraken key (clashing nonces can get the engine's calls refused, cancels included)`
      : 'no running engine with the keys checks it either; to check from here, run `ctb self-heal` with the bot\'s environment (IS_LIVE=true and its Kraken keys)';
    await record({ check: 'exchange', status: 'failed', detail: `Kraken was not asked: ${stake.why}; ${cannot}, so nothing was checked from here (not the paper venue either): ${who}` });
    actions.push({ check: 'reconcile', status: 'skipped', detail: 'not reconciled: Kraken was not asked (see exchange)' });
  }

  /**
   * The watchdog of the engine's process, which cannot ask Kraken (no IS_LIVE, or no keys), while the
   * ledger holds live orders or positions that no engine trades (an armed live engine stopped, and this
   * one trades paper): nobody checks those on Kraken, and no pass of this watchdog ever will. It pages
   * when the episode starts, saying what to do, and is quiet while that alert's group stays open or
   * acknowledged: nothing passes by itself here and the operator's answer is a decision, not a repair,
   * so an "Again:" every TRANSIENT_PAGE_AFTER_MS would only be noise. Once the group is resolved (or
   * closed) while the live rows stay, it pages anew within TRANSIENT_PAGE_AFTER_MS, as any lasting
   * failure does: a resolve must not leave live positions nobody watches silent until they are gone.
   * Every pass still reports it (not ok). The paper venue the engine trades on is checked as on any
   * pass: left unchecked, a paper engine's own stuck orders would go unnoticed as long as the live ones stay.
   */
  async function liveLeftUnchecked(stake: LiveAtStake, cannot: string, stored: Pick<BotState, 'mode' | 'halted'>): Promise<void> {
    const restart = 'restart the worker armed (IS_LIVE=true, its Kraken keys)';
    // An armed engine trades the mode the database holds: with bot_state live, the restart that gets
    // them checked resumes LIVE trading (reconcile/start/monitor.ts: once the start reconciliation
    // passes), with no new approval. With bot_state paper first, it trades paper and its watchdog
    // checks them on Kraken all the same (live at stake from the ledger).
    const step = stored.mode !== 'live'
      ? `${restart} so that its watchdog checks them there`
      : `${restart}; bot_state says live, so ${stored.halted ? 'once the halt is lifted it trades LIVE' : 'it trades LIVE once its start reconciliation passes'}, with no new approval (to only have them checked, \`ctb mode paper\` first)`;
    const action: HealAction = {
      check: 'exchange', status: 'failed',
      // The step first: an alert's title keeps only its first 300 characters, and the host may be long.
      detail: `Nobody checks live orders or positions on Kraken: ${step}; or check them with \`ctb self-heal\` run with the bot's environment. `
        + `Kraken was not asked: ${stake.why} (${cannot}: this engine's watchdog checks its paper venue only; paged again only once its alert was resolved while they stay)`,
    };
    actions.push(action);
    ctx.logger.warn({ action }, 'self-heal: exchange failed');
    const now = ctx.clock.now().getTime();
    const last = raised.get('live_left:failed');
    if (last !== undefined) {
      if (now - last < TRANSIENT_PAGE_AFTER_MS) return;
      // Paged in this episode: again only once nobody has its group open (resolved, or never stored).
      let open: number | null;
      try {
        open = await withDeadline(liveAlertGroupId(ctx.db, LIVE_LEFT_FINGERPRINT), timeout, 'the database');
      } catch (err) {
        ctx.logger.warn({ error: describeError(err) }, 'self-heal: could not read whether the alert about live orders or positions left unchecked is still open; read again on a later pass');
        return;
      }
      if (open !== null) {
        // Still open or acknowledged: quiet, and looked at again in TRANSIENT_PAGE_AFTER_MS.
        raised.set('live_left:failed', now);
        return;
      }
    }
    if (await alert(ctx, action, nextPass, 'live_left')) raised.set('live_left:failed', now);
  }

  /**
   * An armed process that could not read the trading mode: which venue the bot trades on is not known,
   * so none is asked, no intent resolved, the ledger not reconciled — on a guess of paper a live bot
   * would be reported ok with Kraken never asked; on a guess of live, intents would be resolved and
   * Kraken read for a bot that may trade paper. A one-off run fails (exit 1, as a database that does
   * not answer); the watchdog defers it to its next pass (a warning) and pages once the mode has been
   * unread for TRANSIENT_PAGE_AFTER_MS (again every TRANSIENT_PAGE_AFTER_MS while it stays so). Not recorded under the exchange's own
   * check: a deferral the watchdog keeps for the exchange stays as it was.
   */
  async function modeUnknown(unread: ModeUnread): Promise<void> {
    const now = ctx.clock.now().getTime();
    const since = deferredSince.get('mode') ?? now;
    deferredSince.set('mode', since);
    const what = `not checked: ${unread.what}, so whether the bot trades on kraken or on paper is not known: no venue asked, no intent resolved, the ledger not reconciled`;
    const action: HealAction = !nextPass
      ? { check: 'exchange', status: 'failed', detail: `${what}; run \`ctb self-heal\` again once the database answers` }
      : now - since >= TRANSIENT_PAGE_AFTER_MS
        ? { check: 'exchange', status: 'failed', detail: `${what}, for ${Math.round((now - since) / 60_000)} min ${limit('mode', since)}: ${unread.find}` }
        : { check: 'exchange', status: 'deferred', detail: `${what}; the next pass reads it again` };
    actions.push(action);
    ctx.logger.warn({ action }, `self-heal: exchange ${action.status}`);
    await raise('mode', action, 'mode');
    actions.push({ check: 'reconcile', status: 'skipped', detail: `not reconciled: ${unread.what}` });
  }

  async function checkExchange(mode: Mode): Promise<void> {
    const exchange = ctx.exchanges.forMode(mode);
    // "ok exchange answers" must not be read as Kraken's answer while trading paper, an armed engine's
    // with its keys included: the venue checked is then the paper one, and Kraken is not asked.
    const notKraken = exchange.venue === 'paper' ? ' (the paper venue: trading is paper, so Kraken was not asked)' : '';
    // When the answer used was asked for: a resting order's trades after it are its filling since.
    let probedAt = ctx.clock.now();
    const probe = await withBackoff(() => {
      probedAt = ctx.clock.now();
      return withDeadline(exchange.fetchOpenOrders(), 15_000, `${exchange.venue} open orders`);
    }, opts);
    const passing = probe.value === undefined ? venueWideRefusal(probe.lastError) : null;
    if (probe.value === undefined) {
      const detail = `${exchange.venue} did not answer after ${probe.attempts} attempt(s): ${probe.errors.at(-1)}`;
      await record(passing ? deferOrFail('exchange', passing, detail, probe.attempts) : { check: 'exchange', status: 'failed', attempts: probe.attempts, detail });
    } else if (probe.attempts > 1 || options.alwaysResync || retryDeferred) {
      let resync = `${probe.value.length} open order(s) on ${exchange.venue}`;
      let busy: HealAction | null = null;
      // Intents left unresolved (the lookup failed, or orders did not answer): the run is not ok.
      let unresolved: HealAction | null = null;
      try {
        // Under the order lock, as every other resolution runs: an intent the executor is sending is
        // neither closed here as never placed nor booked into self-heal's own book meanwhile (the
        // executor's read-back would then find it booked and leave the engine's book without it).
        // Only if it is free: waiting behind an order path that hangs would hang this pass too, and
        // the engine heartbeat check below is what reports an engine stuck holding the lock.
        const locked = await tryOrderLock(ctx, () => resolveIntents({ ctx, mode, exchange }), { crossProcess: mode === 'live' });
        if (locked.taken) {
          deferredSince.delete('intents');
          const report = locked.value;
          resync += `; intents resolved: ${report.recorded} recorded, ${report.neverPlaced} never placed, ${report.stillOpen} still open, ${report.unreachable} unreachable`;
          if (report.unreachable > 0) {
            deferredSince.set('intents', deferredSince.get('intents') ?? ctx.clock.now().getTime());
            unresolved = { check: 'intents', status: 'deferred', detail: `${report.unreachable} intent(s) not resolved: looking up or booking their orders on ${exchange.venue} failed (see the log); ${nextPass ? 'the next pass tries again' : 'run `ctb self-heal` again'}` };
          } else endEpisode('intents'); // every intent resolved: that check is ok, its episode ends
        } else {
          // Left to the next pass, which resyncs because of this entry (the watchdog's passes
          // otherwise resync only after a retried probe or a deferred check).
          deferredSince.set('intents', deferredSince.get('intents') ?? ctx.clock.now().getTime());
          const then = nextPass ? 'the next pass tries again' : 'run `ctb self-heal` again once the lock is free';
          busy = { check: 'intents', status: 'busy', detail: `not resolved: the order lock is taken by another holder (orders are being placed, cancelled or booked); ${then}` };
        }
      } catch (err) {
        resync += '; intents not resolved (see intents)';
        deferredSince.set('intents', deferredSince.get('intents') ?? ctx.clock.now().getTime());
        const passing = venueWideRefusal(err);
        const detail = `not resolved: ${describeError(err)}`;
        unresolved = passing ? deferOrFail('intents', passing, detail) : { check: 'intents', status: 'failed', detail };
      }
      await record({ check: 'exchange', status: probe.attempts > 1 ? 'healed' : 'ok', attempts: probe.attempts,
        detail: probe.attempts > 1 ? `answers again after ${probe.attempts} attempts (${probe.errors.at(-1)})${notKraken}; resynced: ${resync}` : `answers${notKraken}; resynced: ${resync}` });
      if (busy) await record(busy);
      if (unresolved) await record(unresolved);
      // The lock's holder may be halfway through changing the ledger or Kraken's orders (an adopt, a
      // cancel, the monitor's reconciliation): reading Kraken now could report differences that are
      // only that holder's work in progress, as a critical failure.
      if (busy) actions.push({ check: 'reconcile', status: 'skipped', detail: 'the order lock is taken; a pass that takes it reconciles' });
      else await reconcileAfterResync(probe.value, probedAt);
    } else if (owedOnly) {
      await record({ check: 'exchange', status: 'ok', attempts: 1, detail: `${exchange.venue} answers (${probe.value.length} open order(s))${notKraken}` });
      await reconcileAfterResync(probe.value, probedAt);
    } else {
      await record({ check: 'exchange', status: 'ok', attempts: 1, detail: `${exchange.venue} answers (${probe.value.length} open order(s))${notKraken}` });
    }
  }

  // 3b. After a resync while live: the ledger against Kraken's trade history and balances, so fills
  // made while the bot could not see the exchange show up as differences (read-only calls only).
  async function reconcileAfterResync(openOrders: readonly OrderState[], probedAt: Date): Promise<void> {
    if (mode !== 'live') {
      deferredSince.delete('reconcile');
      settleOwed();
      actions.push({ check: 'reconcile', status: 'skipped', detail: 'paper: the ledger is the venue' });
      return;
    }
    // Owed to the next pass, which resyncs and reconciles because of this entry (the watchdog's
    // passes otherwise reconcile only after a retried probe or a deferred check).
    const owe = () => deferredSince.set('reconcile_owed', deferredSince.get('reconcile_owed') ?? ctx.clock.now().getTime());
    // Not reconciled until `whose` fills are booked: the watchdog owes it to its next pass (skipped,
    // saying `watchdogNext`), or fails saying `overdue` once it has been owed past the bound (however
    // it came to be owed: orders in flight, or an order going out or filling during every read); a
    // one-off run has none, so the ledger is left unreconciled (deferred, waiting for fills: the run
    // exits 75, run it again).
    const waitForFills = async (what: string, whose: 'its' | 'their', watchdogNext: string, overdue: (minutes: number) => string) => {
      if (await pastDue(overdue)) return;
      owe();
      actions.push(nextPass
        ? { check: 'reconcile', status: 'skipped', detail: `${what}: ${watchdogNext}` }
        : { check: 'reconcile', status: 'deferred', waitingFor: 'fills_booked', detail: `${what}: the ledger is not reconciled; run \`ctb self-heal\` again once ${whose} fills are booked` });
    };
    // The watchdog pages once the reconciliation has been owed for TRANSIENT_PAGE_AFTER_MS (and again
    // every TRANSIENT_PAGE_AFTER_MS while it stays owed: raise), under a fingerprint of its own: a
    // reconciliation that finally runs and finds real differences must page, not land as a repeat in
    // the owed alert's thread once that was acknowledged. Returns whether it is past due.
    const pastDue = async (detail: (minutes: number) => string): Promise<boolean> => {
      const now = ctx.clock.now().getTime();
      const since = deferredSince.get('reconcile_owed') ?? now;
      owe();
      if (!nextPass || now - since < TRANSIENT_PAGE_AFTER_MS) return false;
      const action: HealAction = { check: 'reconcile', status: 'failed', detail: detail(Math.round((now - since) / 60_000)) };
      actions.push(action);
      ctx.logger.warn({ action }, 'self-heal: reconcile failed');
      await raise('reconcile_owed', action, 'reconcile_owed');
      return true;
    };
    const owedFor = (m: number) => `the reconciliation has been owed for ${m} min ${limit('reconcile_owed', deferredSince.get('reconcile_owed'))}`;
    // An order still in flight has fills at Kraken the ledger books only once the follower has read
    // them: reconciling now would page "recent unmatched" and a balance shortfall for normal trading.
    // An order resting in Kraken's book with every fill it has booked is not: the reconciliation
    // compares booked fills with Kraken's trades, and balances with Kraken's totals, which include
    // what open orders hold — so it may wait there for days (an adopted order, a limit order).
    // A count the database did not give is not "none in flight": the reconciliation waits for one.
    let inFlight: number;
    let resting: Map<string, Decimal>;
    try {
      ({ inFlight, resting } = await withDeadline(ordersInFlight(ctx.db, openOrders), timeout, 'the database'));
    } catch (err) {
      const unread = `the live orders in flight could not be counted (${describeError(err).replace(/\.$/, '')})`;
      // Orders that cannot be counted this long: the ledger has not been reconciled meanwhile.
      if (await pastDue((m) => `${unread}; ${owedFor(m)}: find why the database does not answer that count, and run \`ctb reconcile\``)) return;
      // A read that failed is not known to pass by itself: a one-off run's check fails (exit 1), as a
      // database that does not answer does.
      const action: HealAction = nextPass
        ? { check: 'reconcile', status: 'skipped', detail: `${unread}: the ledger is not reconciled; the next pass counts them again and reconciles once none is in flight` }
        : { check: 'reconcile', status: 'failed', detail: `${unread}: the ledger is not reconciled; ${err instanceof DeadlineError
          ? 'the count timed out: run `ctb self-heal` again once the database answers it in time'
          : 'the query failed: find why (see the error), then run `ctb self-heal` again'}` };
      if (nextPass) {
        actions.push(action);
        ctx.logger.warn({ action }, 'self-heal: reconcile skipped');
      } else await record(action);
      return;
    }
    if (inFlight > 0) {
      const waiting = `${inFlight} live order(s) still in flight`;
      // Orders that stay in flight this long are not normal trading: sent orders Kraken never
      // answered about, or fills it does not list; the ledger has not been reconciled meanwhile.
      await waitForFills(waiting, 'their', 'reconciling waits until their fills are booked (the fill follower keeps asking Kraken); the next pass that finds none in flight reconciles',
        (m) => `${waiting}; ${owedFor(m)}: look those orders up on Kraken, and run \`ctb reconcile\``);
      return;
    }
    const run = options.reconcile ?? ((c: SelfHealDeps) => reconcileLedger(c, readOnlyExchange(c.exchanges.kraken()), { writeReport: true }));
    try {
      const markBefore = await liveIntentsMark(ctx.db);
      const report = await run(ctx);
      // Owed that long (in flight, or timing): the ledger has not been checked meanwhile, and a real
      // difference hidden behind the orders going out would never page. Only the last attempt is
      // known to have been timing: the owed period may have been mostly orders in flight.
      const lastAttempt = (last: string) => (m: number) =>
        `${owedFor(m)}; on the last attempt ${last}; run \`ctb reconcile\`${report.reportFile ? ` (report: ${report.reportFile})` : ''}`;
      // An order sent (or booked) while Kraken's history was read makes differences that are only
      // timing: Kraken's trades of an order the ledger has not booked yet. Nobody is paged. The
      // watchdog's next pass reconciles (reconcile_owed), once that order's fills are booked; a
      // one-off run has none, so the ledger is left unreconciled:
      // deferred (the run is not ok, and exits 75: run it again).
      if (!report.ok && (await liveIntentsMark(ctx.db)) !== markBefore) {
        const what = `an order went out or was booked while reconciling (${report.summaryLine})`;
        await waitForFills(what, 'its', 'the next pass reconciles once its fills are booked', lastAttempt(what));
        return;
      }
      // An order resting at the probe may have filled since, unbooked as yet: timing too, when every
      // difference is its new trades. Anything else still fails, saying what is not timing.
      const timing = report.ok || resting.size === 0 ? null : restingFilled(report, { probedAt, remaining: resting });
      if (timing && timing.trades.length > 0 && timing.unexplained.length === 0) {
        const what = `an order resting in Kraken's book filled while reconciling (${timing.trades.length} trade(s) not booked yet; ${report.summaryLine})`;
        await waitForFills(what, 'its', 'the next pass reconciles once its fills are booked', lastAttempt(what));
        return;
      }
      settleOwed();
      await record(report.ok
        ? { check: 'reconcile', status: 'ok', detail: report.summaryLine }
        : { check: 'reconcile', status: 'failed', detail: failedDetail(report, timing) });
    } catch (err) {
      const passing = venueWideRefusal(err);
      const detail = `could not reconcile: ${describeError(err)}`;
      // Kraken's passing refusal leaves it to the next pass under 'reconcile'; a failure has paged.
      settleOwed();
      await record(passing ? deferOrFail('reconcile', passing, detail) : { check: 'reconcile', status: 'failed', detail });
    }
  }

  /**
   * A failed reconciliation, worded for an alert's title (its first 300 characters): what to do, what
   * differs in plain words (Kraken holding less than the ledger, by how much), then — only when some
   * trades of an order resting when self-heal listed open orders were taken as timing — that these
   * are what their filling does not explain, and last where the report is.
   */
  function failedDetail(report: Awaited<ReturnType<NonNullable<SelfHealOptions['reconcile']>>> & Partial<ReconcileDifferences>, timing: FilledWhileReconciling | null): string {
    const accepted = timing?.trades.length ?? 0;
    const items = timing ? timing.unexplained : shortfalls(report.balances ?? []);
    return `${report.summaryLine}; check the ledger before resuming${items.length > 0 ? `: ${items.join('; ')}` : ''}`
      + (accepted > 0 ? `; not explained by ${accepted} trade(s) of an order resting when self-heal listed open orders, made while reconciling (not booked yet)` : '')
      + (report.reportFile ? ` (report: ${report.reportFile})` : '');
  }

  /**
   * What a failed report's differences are, when it lists them: the trades of orders resting at the
   * probe made since, and what is not explained by them. Kraken may differ from the ledger by its
   * rounding: as far as the reconciliation allowed for that asset (on its balance diff), and for the
   * quote 0.0001 more for each trade not booked yet.
   */
  function restingFilled(report: Partial<ReconcileDifferences>, resting: RestingAtProbe): FilledWhileReconciling | null {
    const { mismatched, missingOnExchange, recentUnmatched, balances } = report;
    if (!mismatched || !missingOnExchange || !recentUnmatched || !balances) return null;
    const quote = ctx.config.QUOTE_CURRENCY;
    const perTrade = new Decimal('0.0001').times(recentUnmatched.length);
    return filledWhileReconciling({ mismatched, missingOnExchange, recentUnmatched, balances }, resting, (asset) => {
      const allowed = new Decimal(balances.find((b) => b.asset === asset)?.tolerance ?? BALANCE_TOLERANCE);
      return asset === quote ? allowed.plus(perTrade) : allowed;
    });
  }

  /**
   * Live intents whose fills may be at Kraken and not in the ledger: pending or sent, or open unless
   * Kraken lists the order resting with no more filled than the ledger has booked for it. Those
   * resting are returned too (by exchange order id, with what was left to fill at the probe).
   */
  async function ordersInFlight(db: SelfHealDeps['db'], openOrders: readonly OrderState[]): Promise<{ inFlight: number; resting: Map<string, Decimal> }> {
    let inFlight = 0;
    const resting = new Map<string, Decimal>();
    for (const intent of await unresolvedIntents(db, 'live')) {
      const listed = intent.status === 'open'
        ? openOrders.find((o) => (intent.exchangeOrderId !== null && o.exchangeOrderId === intent.exchangeOrderId) || o.clientOrderId === intent.clientOrderId)
        : undefined;
      if (listed?.status === 'open') {
        const booked = (await liveFillsOfIntent(db, intent.id)).reduce((sum, f) => sum.plus(f.quantity), new Decimal(0));
        if (new Decimal(listed.filledQuantity).lte(booked)) {
          resting.set(listed.exchangeOrderId, new Decimal(listed.quantity).minus(listed.filledQuantity));
          continue;
        }
      }
      inFlight += 1;
    }
    return { inFlight, resting };
  }

  // 4. The engine's heartbeat (written every second by the engine worker, halted or not).
  if (!dbUp) {
    await record({ check: 'engine', status: 'skipped', detail: `the heartbeat is in the database, which ${databaseFailure(configurationError !== null)}` });
  } else if (heartbeatUnread !== null) {
    await record({ check: 'engine', status: 'skipped', detail: `the heartbeat could not be read: ${heartbeatUnread}` });
  } else if (heartbeatAgeMs === null) {
    await record({ check: 'engine', status: 'skipped', detail: 'no engine has written a heartbeat yet' });
  } else {
    const age = Math.max(0, heartbeatAgeMs);
    await record(age > ctx.config.ENGINE_STALE_AFTER
      ? { check: 'engine', status: 'failed', detail: `heartbeat stale for ${Math.round(age / 1000)}s (over ${ctx.config.ENGINE_STALE_AFTER / 1000}s): restart the worker (the process manager restarts a crashed one)` }
      : { check: 'engine', status: 'ok', detail: `heartbeat ${Math.round(age / 1000)}s old` });
  }

  // A deferred check is not known to be fine, nor work left to the lock's holder done: not ok (the
  // CLI exits 1, or 75 when only Kraken's passing refusals or the lock kept it from its work), though nobody is paged.
  return { ok: actions.every((a) => a.status !== 'failed' && a.status !== 'deferred' && a.status !== 'busy'), halted, actions, configurationError };
}


