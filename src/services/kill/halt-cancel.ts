// Owns "halt means cancel" in a process that holds the Kraken key: whenever it learns of a halt —
// its own kill, the halt watcher's poll, a saved kill at start — it cancels every order on Kraken
// and confirms none is left; survivors are logged and alerted. The dead man's switch waits for this
// cancel's outcome before it disarms (dead-man.ts): a halted bot never disarms Kraken's own
// backstop while orders may still be open. One cancel per halt: a kill's own cancel counts as it.
// Not confirmed, the cancel goes on as the same follow-up request a kill writes (follow-up-request.ts),
// tied to the open incident when there is one, else to the halt alone: the running bot retries it
// until Kraken confirms. Confirmed, it resolves the halt's own alert only once no order of ours is
// on its way either (resolveHaltAlert).
import { ALERTED } from '../../alerts/log-source.js';
import type { AlertSink } from '../../alerts/types.js';
import type { Config } from '../../config/env.js';
import type { ExchangeProvider } from '../../exchange/provider.js';
import type { JobRegistry } from '../../jobs/registry.js';
import type { Logger } from '../../logger.js';
import { confirmedClearPhrase, lostAnswersPhrase, type KillFollowUp } from '../../domain/kraken-handoff.js';
import { liveAlertGroupId } from '../../db/queries/alert-groups.js';
import { openIncident } from '../../db/queries/kill-incidents.js';
import { answerBound, clearVenue, type VenueCancelReport } from './cancel-everywhere.js';
import { tryCancelOnce } from './cancel-follow-up.js';
import { markChecklistAttempt } from './checklist-records.js';
import { describeError, withDeadline } from './deadline.js';
import { awaitOrdersInFlight, confirmedClear, inFlightPhrase, ordersMayLand } from './fence.js';
import { killFollowUpOf, stillPending, writeFollowUp, type FollowUpDeps } from './follow-up-request.js';
import { KrakenRoom } from './kraken-room.js';
import { krakenVenueName } from '../../domain/venue-name.js';
import type { KillPorts } from './runtime.js';

/** The halt's cancel is kept per job registry (every copy of a context shares it). */
export interface HaltCancelKey {
  jobs: JobRegistry;
}

/** Cancelling on a halt: Kraken through this process's key, the log, and the alert when orders survive. */
export interface HaltCancelDeps extends HaltCancelKey, Omit<FollowUpDeps, 'config'> {
  config: Pick<Config, 'KILL_CONFIRM_ATTEMPTS' | 'KILL_CONFIRM_WAIT' | 'KILL_CALL_TIMEOUT' | 'KILL_DB_TIMEOUT' | 'KRAKEN_RATE_TIER' | 'ENGINE_LEASE_TTL' | 'KRAKEN_API_URL'>;
  exchanges: ExchangeProvider;
  logger: Logger;
  alerts: Pick<AlertSink, 'raise' | 'resolve'>;
  /** The time its confirmation rounds run on, and Kraken's rate counter as every process using the key recorded it. */
  kill: Pick<KillPorts, 'time' | 'counter'>;
}

interface HaltCancel {
  promise: Promise<VenueCancelReport | null>;
  outcome: VenueCancelReport | null | undefined;
  /** Wall-clock start (ms): lets a handed-over cancel count only what was cancelled for its own kill. */
  startedAt: number;
}

const current = new WeakMap<object, HaltCancel>();

function track(ctx: HaltCancelKey, promise: Promise<VenueCancelReport | null>): HaltCancel {
  const entry: HaltCancel = { promise, outcome: undefined, startedAt: Date.now() };
  current.set(ctx.jobs, entry);
  promise.then(
    (r) => void (entry.outcome = r),
    () => void (entry.outcome = null),
  );
  return entry;
}

/** A kill's own Kraken cancel is this process's halt cancel (so the halt listener joins it). */
export function adoptHaltCancel(ctx: HaltCancelKey, kraken: Promise<VenueCancelReport | null>): void {
  track(ctx, kraken);
}

/** Per job registry: the Kraken cancel this process made for each kill it was told of (a saved kill's replay reads it). */
const forKill = new WeakMap<object, Map<string, Promise<VenueCancelReport | null>>>();

/**
 * The Kraken cancel this process made (or joined) for the kill `killId`, when it was told of that
 * kill while holding the key: what the replay of a saved kill records (a follow-up when not confirmed).
 */
export function haltCancelForKill(ctx: HaltCancelKey, killId: string): Promise<VenueCancelReport | null> | undefined {
  return forKill.get(ctx.jobs)?.get(killId);
}

/**
 * Starts the halt's Kraken cancel, or joins the one under way. Without the key there is nothing to do
 * here. `killId`: the kill this halt is — its cancel is kept for it (haltCancelForKill).
 */
export function cancelOnHalt(ctx: HaltCancelDeps, reason: string, killId?: string): Promise<VenueCancelReport | null> {
  const cancel = startCancelOnHalt(ctx, reason, killId);
  if (killId !== undefined && ctx.exchanges.hasKrakenKeys()) {
    const kills = forKill.get(ctx.jobs) ?? new Map<string, Promise<VenueCancelReport | null>>();
    forKill.set(ctx.jobs, kills);
    kills.set(killId, cancel);
  }
  return cancel;
}

function startCancelOnHalt(ctx: HaltCancelDeps, reason: string, killId: string | undefined): Promise<VenueCancelReport | null> {
  const running = current.get(ctx.jobs);
  if (running && running.outcome === undefined) return running.promise;
  if (!ctx.exchanges.hasKrakenKeys()) return Promise.resolve(null);
  const kraken = krakenVenueName(ctx.config.KRAKEN_API_URL);
  ctx.logger.warn({ reason, ...(killId !== undefined ? { killId } : {}) }, `halted: cancelling every order on ${kraken}`);
  const startedAt = Date.now();
  // Bound as a kill's answer is: a hung Kraken cannot hold the halt's "could not confirm" alert and
  // its follow-up request past KILL_CONFIRM_WAIT plus one call's deadline; each call that missed its
  // deadline is logged as it happens.
  const bound = answerBound(ctx.kill.time, ctx.config.KILL_CONFIRM_WAIT, ctx.config.KILL_CALL_TIMEOUT);
  const promise = clearVenue('kraken', () => ctx.exchanges.kraken(), {
    // partial: the halt's cancel says its own outcome (unconfirmedLine), as the halt's, not a kill's.
    logger: ctx.logger, attempts: ctx.config.KILL_CONFIRM_ATTEMPTS, ...bound, alerted: true, partial: true,
    answerName: "the halt's alert", progress: (line) => ctx.logger.warn({ reason }, `halted: ${line}`),
    krakenRoom: new KrakenRoom(ctx.config.KRAKEN_RATE_TIER, bound.now, { counter: ctx.kill.counter, readTimeoutMs: ctx.config.KILL_DB_TIMEOUT }),
  })
    .then(async (report) => {
      if (report.confirmed) {
        ctx.logger.warn({ canceled: report.canceled, ...(report.lostAnswers ? { lostAnswers: report.lostAnswers } : {}) }, `halted: ${kraken} confirms no open order: ${confirmedClearPhrase(report, 'none open')}`);
        await resolveHaltAlert(ctx, reason);
      } else {
        ctx.logger.error({ ...ALERTED, report }, unconfirmedLine(report, kraken));
        // Handed on first, so the alert says what is still pending, as a kill's says it: the running
        // bot with the key that goes on (read from the engine lease), a request waiting for one, or nothing.
        const followUp = await keepCancelling(ctx, reason, startedAt);
        const requestId = 'requestId' in followUp ? followUp.requestId : null;
        await withDeadline(ctx.alerts.raise({
          source: 'kill', severity: 'critical', fingerprint: await unconfirmedFingerprint(ctx),
          title: `Halted, but ${report.survivors.length > 0 ? `${report.survivors.length} order(s) are still open on ${kraken}` : `zero open orders on ${kraken} could not be confirmed`} after cancelling — ${stillPending(followUp, kraken)}`,
          details: { reason, survivors: report.survivors, errors: report.errors.slice(-3), ...(requestId !== null ? { confirmationContinues: `request #${requestId}` } : {}) },
        }), ctx.config.KILL_DB_TIMEOUT, 'the alert pipeline').catch((err: unknown) => ctx.logger.error({ err }, 'could not raise the halt-cancel alert'));
      }
      return report;
    });
  return track(ctx, promise).promise;
}

const HALT_CANCEL_FINGERPRINT = 'halt-cancel:unconfirmed';

/**
 * An earlier halt's "could not confirm" (raised with no incident to join) is over only once it is
 * clear (fence.ts): Kraken confirmed zero open orders and no order of ours is on its way. The halt's
 * cancel leaves before anything reads the database, so its "none open" may predate an order still
 * on its way: with that group live, this waits for orders on their way, then tries once more
 * (CancelAll, OpenOrders) and resolves the group only if that is clear. No live group: nothing more
 * is read or sent. A kill's group (`kill:<incident>`) is never resolved here: this cancel runs in
 * every process with the key on every halt, a kill that confirmed included, so it would stop that
 * kill's page; a kill that could not confirm is resolved by its own follow-up (handlers.ts), whose
 * first try counts this cancel's answer.
 */
async function resolveHaltAlert(ctx: HaltCancelDeps, reason: string): Promise<void> {
  if (!ctx.alerts.resolve) return;
  try {
    const live = await withDeadline(liveAlertGroupId(ctx.db, HALT_CANCEL_FINGERPRINT), ctx.config.KILL_DB_TIMEOUT, 'the database');
    if (live === null) return;
    const fence = await awaitOrdersInFlight(ctx.db, Math.max(ctx.config.KILL_DB_TIMEOUT, ctx.config.KILL_CONFIRM_WAIT), 20, ctx.config.KILL_DB_TIMEOUT);
    if (ordersMayLand(fence)) {
      ctx.logger.warn({ fence }, `halted: ${krakenVenueName(ctx.config.KRAKEN_API_URL)} confirmed no open order, but ${inFlightPhrase(fence)}: the halt's alert stays open`);
      return;
    }
    const { report } = await tryCancelOnce(ctx.exchanges.kraken());
    if (!confirmedClear(report.confirmed, fence)) {
      ctx.logger.warn({ report }, `halted: ${krakenVenueName(ctx.config.KRAKEN_API_URL)}'s second look after the wait for orders on their way did not confirm zero open orders: the halt's alert stays open`);
      return;
    }
    await withDeadline(ctx.alerts.resolve({
      fingerprint: HALT_CANCEL_FINGERPRINT, by: 'system:halt-cancel', note: `${krakenVenueName(ctx.config.KRAKEN_API_URL)} confirms zero open orders after the halt's cancel (${reason}), and no order of ours is on its way`,
    }), ctx.config.KILL_DB_TIMEOUT, 'the alert pipeline');
  } catch (err) {
    ctx.logger.error({ err }, 'could not resolve the halt-cancel alert');
  }
}

/**
 * One kill, one critical group: a halt that belongs to a kill (its incident is open) raises into the
 * kill's own group (`kill:<incident>`, kill.ts), whose "could not be confirmed" it repeats — in
 * another process the halt watcher's cancel otherwise opened a second group, paged at every step
 * alongside the kill's. With no incident to join (or none readable), the halt has its own group.
 */
async function unconfirmedFingerprint(ctx: HaltCancelDeps): Promise<string> {
  const open = await withDeadline(openIncident(ctx.db), ctx.config.KILL_DB_TIMEOUT, 'the database').catch(() => undefined);
  return haltAlertFingerprint(open?.id ?? null);
}

/** The alert group a halt's "could not confirm" is in: its kill's incident's, else the halt's own. */
export function haltAlertFingerprint(incidentId: number | null): string {
  return incidentId !== null ? `kill:${incidentId}` : HALT_CANCEL_FINGERPRINT;
}

/**
 * The groups a halt's follow-up that confirmed clear resolves: the one it tells (haltAlertFingerprint),
 * and, once it is an incident's, the halt's own too — raised when no incident existed yet, before a
 * kill's incident took the follow-up over (or was committed between the raise and the write).
 */
export function haltAlertGroupsToResolve(incidentId: number | null): string[] {
  return incidentId !== null ? [haltAlertFingerprint(incidentId), HALT_CANCEL_FINGERPRINT] : [HALT_CANCEL_FINGERPRINT];
}

/**
 * The halt's cancel did not confirm: written as a follow-up request the running bot with the key
 * retries until Kraken confirms; the request and who takes it, or why it could not be written. With an open incident it is that incident's cancel item's; a halt
 * without one (a reconciliation halt) is followed up alone and stops when the halt is lifted.
 */
async function keepCancelling(ctx: HaltCancelDeps, reason: string, startedAt: number): Promise<KillFollowUp> {
  try {
    const incident = await withDeadline(openIncident(ctx.db), ctx.config.KILL_DB_TIMEOUT, 'the database');
    const written = await writeFollowUp(ctx, {
      incidentId: incident?.id ?? null, killId: incident?.killId ?? `halt:${new Date(startedAt).toISOString()}`,
      actor: 'system:halt-cancel', reason, startedAt, halt: true,
    });
    const { requestId, joined, who } = written;
    if (incident) {
      const kraken = krakenVenueName(ctx.config.KRAKEN_API_URL);
      await withDeadline(markChecklistAttempt(ctx, {
        incidentId: incident.id, item: 'cancel_orders', state: 'pending', requestId,
        outcome: { summary: `The halt's cancel could not confirm zero open orders on ${kraken}: handed on as request #${requestId}; ${who}. Until it answers, orders may remain open on ${kraken}.`, requestId },
      }), ctx.config.KILL_DB_TIMEOUT, 'the database').catch((err: unknown) => ctx.logger.error({ err, requestId }, "halted: the follow-up is written, but the incident's cancel item could not be marked pending"));
    }
    ctx.logger.warn({ requestId, joined, incidentId: incident?.id ?? null }, `halted: the cancel goes on as request #${requestId}; ${who}`);
    return killFollowUpOf(written);
  } catch (err) {
    ctx.logger.error({ err }, "halted: the cancel could not be handed on as a follow-up request; nothing retries it until the next halt or a cancel again");
    return { error: describeError(err) };
  }
}

/**
 * What is known after a cancel that did not confirm: the orders Kraken's last answer still listed
 * (ids), or, when none was listed, that Kraken's open orders could not be read (and why). A read
 * that failed is not Kraken showing orders.
 */
export function unconfirmedLine(report: VenueCancelReport, kraken: string): string {
  if (report.survivors.length > 0) {
    const ids = report.survivors.map((s) => s.exchangeOrderId).join(', ');
    return `halted, but ${kraken} still shows ${report.survivors.length} open order(s) after cancelling: ${ids}`;
  }
  const why = report.errors.at(-1) ?? 'no answer';
  return `halted: ${kraken} ${haltCancelledPhrase(report)}, but zero open orders could not be confirmed: its open orders could not be read (${why})`;
}

/**
 * What the halt's cancels are known to have cancelled: a count only when every CancelAll answered;
 * with one whose answer was lost (it may have run), a lower bound, or only that it may have — never
 * "cancelled no order(s)" for a cancel whose answer never came.
 */
function haltCancelledPhrase(report: VenueCancelReport): string {
  const lost = report.lostAnswers ?? [];
  if (lost.length === 0) return `cancelled ${report.canceled ?? 'no'} order(s)`;
  if (!report.canceled) return `may have cancelled orders; ${lostAnswersPhrase(lost)}`;
  return `cancelled at least ${report.canceled} order(s); ${lostAnswersPhrase(lost)}`;
}

/**
 * What the current halt's Kraken cancel came to: 'confirmed' (zero open orders), 'running',
 * 'unconfirmed' (orders may remain), or 'none' (no halt cancel in this process yet).
 */
export function haltCancelState(ctx: HaltCancelKey): 'confirmed' | 'running' | 'unconfirmed' | 'none' {
  const entry = current.get(ctx.jobs);
  if (!entry) return 'none';
  if (entry.outcome === undefined) return 'running';
  return entry.outcome?.confirmed ? 'confirmed' : 'unconfirmed';
}

/** The current halt's Kraken cancel, when it started at or after `sinceMs` (wall clock). */
export function haltCancelSince(ctx: HaltCancelKey, sinceMs: number): Promise<VenueCancelReport | null> | null {
  const entry = current.get(ctx.jobs);
  return entry && entry.startedAt >= sinceMs ? entry.promise : null;
}
