// Owns the handlers of engine requests: what a process that holds the capability does when another
// process hands it work. Each is a function of this process's context that returns the handler of
// one kind. Two runners carry them out:
//   - cancel_all, in every process that trades and has the Kraken key (the kill feature's runner):
//     a kill in a process without the key: CancelAll on Kraken, then confirm zero open orders with
//     OpenOrders (bounded rounds, in the urgent lane, paced by the key's shared rate counter within
//     the time the kill waits for the answer, none into a full counter); the result says what Kraken said it cancelled
//     — counting the cancel this process made when it learned of that kill's halt (halt-cancel.ts),
//     before or while this runs, which usually removes the orders first — and what is still open. A kill's
//     follow-up is one try at a time, tried again later (the request back to pending) until Kraken
//     confirms, the kill is superseded, or the follow-up's time is over (kill/cancel-follow-up.ts).
//   - the kinds in ENGINE_HANDLERS, only in the process that holds the engine lease (the engine
//     feature's runner): adopt_order and cancel_order for `ctb reconcile adopt|cancel` from a shell
//     without the key; exit_trade, an operator's exit through the engine's own order path; flatten,
//     the incident's "close positions" through that same order path; reconcile, the incident's
//     "reconcile the ledger" (Kraken's trade history read-only, or refused with its reason when this
//     process cannot read Kraken either). A kind missing from both stays pending until a process that has it runs.
import type { Clock } from '../../clock.js';
import type { Config } from '../../config/env.js';
import { askedAgoMs, liveLedgerCounts } from '../../db/queries/engine-requests.js';
import { ALERTED } from '../../alerts/log-source.js';
import type { AlertSink } from '../../alerts/types.js';
import type { Db } from '../../db/client.js';
import type { EngineRequest, EngineRequestKind } from '../../db/schema/index.js';
import { CANCEL_ALL_STALE_MS, triesCount } from '../../domain/cancel-handover.js';
import { exitTradeHandler } from '../../engine/exit-request.js';
import { flattenPositions, type FlattenReport } from '../../engine/flatten.js';
import type { ExchangeProvider } from '../../exchange/provider.js';
import type { JobRegistry } from '../../jobs/registry.js';
import type { Logger } from '../../logger.js';
import { reconcileHere, type IncidentDeps } from '../kill/incident-ports.js';
import { clearVenue, keptErrors, logUnconfirmed, mergeVenueReports, type VenueCancelReport } from '../kill/cancel-everywhere.js';
import { KrakenRoom } from '../kill/kraken-room.js';
import type { KillPorts } from '../kill/runtime.js';
import { cancelledPhrase, confirmedClearPhrase } from '../../domain/kraken-handoff.js';
import { earlierReport, followUpRetryDelayMs, followUpSpanMs, followUpTimes, followUpTries, supersededBy, tryCancelOnce } from '../kill/cancel-follow-up.js';
import { withDeadline } from '../kill/deadline.js';
import { awaitOrdersInFlight, confirmedClear, inFlightPhrase, ordersMayLand } from '../kill/fence.js';
import { haltAlertFingerprint, haltAlertGroupsToResolve, haltCancelSince } from '../kill/halt-cancel.js';
import { adoptOrderHandler, cancelOrderHandler } from '../reconcile/start/cancel.js';
import { startRequestRunner, type EngineRequestHandler, type EngineRequestHandlers, type HandlerOutcome, type RequestRunner } from './runner.js';
import { checklistFollowUp, checklistRetry } from '../kill/checklist-records.js';
import { exitFollowUp } from '../exits/tell-exit.js';

/**
 * A handed-over cancel: Kraken through this process's key, and this process's own halt cancel (kept
 * per job registry); for a kill's follow-up, the orders still on their way (database) and the alert
 * that tells its outcome.
 */
export interface CancelAllHandlerDeps {
  config: Pick<Config, 'KILL_CONFIRM_ATTEMPTS' | 'KILL_CONFIRM_WAIT' | 'KILL_DB_TIMEOUT' | 'KRAKEN_RATE_TIER'>;
  /**
   * Kraken's rate counter as every process using the key recorded it (a follow-up's try and a
   * hand-over's rounds wait for room), and the time a hand-over's rounds run on.
   */
  kill: Pick<KillPorts, 'counter' | 'time'>;
  exchanges: ExchangeProvider;
  logger: Logger;
  clock: Clock;
  jobs: JobRegistry;
  db: Db;
  alerts: Pick<AlertSink, 'raise' | 'resolve'>;
}

export function cancelAllHandler(ctx: CancelAllHandlerDeps): EngineRequestHandler {
  return async (request) => {
    // Before this moment the kill that handed this over had committed its halt and read its fence.
    const takenAt = Date.now();
    // A kill's follow-up (it could not confirm within its wait): tried again and again until Kraken confirms (cancel-follow-up.ts).
    const followUp = request.params['followUp'] === true;
    // A hand-over's rounds must answer while the kill that handed it over still waits.
    const answerBy = followUp ? undefined : handOverDeadline(ctx, request);
    const tries = followUpTries(request);
    // How long ago it was asked for is the database's count (a follow-up a later kill joined was
    // asked for again then): the writer's clock (a shell's) may be minutes off this process's.
    const asked = tries === 0 ? await askedAgo(ctx, request) : null;
    if (asked && asked.agoMs > CANCEL_ALL_STALE_MS) {
      const askedAt = ctx.clock.now().getTime() - asked.agoMs;
      const summary = `Not carried out: requested at ${new Date(askedAt).toISOString()}, too long ago to act on.`;
      if (!followUp) return { ok: false, summary };
      // A kill that joins it before it is closed was told it joined: then it is carried out (the
      // runner puts it back, due now), and nothing says it was too old.
      const joinedAt = asked.request.params['joinedAt'];
      const retryAt = ctx.clock.now();
      const joined = `Cancel pending — not tried yet: a later kill joined it as the bot found it too long ago to act on, so it is due again now (${retryAt.toISOString()}).`;
      return {
        ok: false, summary,
        finishIf: { params: { joinedAt: joinedAt === undefined || joinedAt === null ? null : String(joinedAt) }, otherwise: { ok: false, summary: joined, retryAt } },
      };
    }
    if (!ctx.exchanges.hasKrakenKeys()) return { ok: false, summary: 'This process has no Kraken key either.' };
    const superseded = followUp ? await supersededBy(ctx.db, request) : null;
    if (superseded) {
      ctx.logger.info({ requestId: request.id, tries }, `kill follow-up stopped: ${superseded}`);
      return { ok: false, summary: `Stopped after ${triesCount(tries)}: ${superseded}.`, details: { superseded, tries } };
    }
    // The halt this kill wrote reached this process first: what Kraken answered then is part of the kill's count.
    const killStartedAt = Date.parse(String(request.params['killStartedAt'] ?? ''));
    const haltCancel = tries === 0 && Number.isFinite(killStartedAt) ? haltCancelSince(ctx, killStartedAt) : null;
    const before = haltCancel ? await haltCancel.catch(() => null) : earlierReport(request);
    if (followUp) {
      const postponed = await postponedForRoom(ctx, request, tries, before);
      if (postponed) return postponed;
    }
    // A follow-up: the orders still on their way first, then one try (CancelAll, OpenOrders).
    const fence = followUp
      ? await awaitOrdersInFlight(ctx.db, Math.max(ctx.config.KILL_DB_TIMEOUT, ctx.config.KILL_CONFIRM_WAIT), 20, ctx.config.KILL_DB_TIMEOUT)
      : null;
    const now = followUp ? (await tryCancelOnce(ctx.exchanges.kraken())).report : await handedOverRounds(ctx, answerBy);
    // The halt reached this process only after it took this hand-over: its halt cancel (same kill)
    // may have reached Kraken first and cancelled what this one then found gone — counted too.
    const late = haltCancel === null && !followUp && Number.isFinite(killStartedAt) ? await lateHaltCancel(ctx, killStartedAt, answerBy) : null;
    const first = late ? (before ? mergeVenueReports(before, late) : late) : before;
    // The halt's cancel said none open with a read sent after this request was taken, so after the
    // kill's halt and its fence (fence.ts): a recheck that merely failed to read does not undo that.
    const holds = (haltCancel !== null || late !== null) && first?.confirmed === true && first.confirmedAt !== undefined && Date.parse(first.confirmedAt) >= takenAt;
    const merged = first ? mergeVenueReports(first, now, { firstHolds: holds }) : now;
    const report = { ...merged, errors: keptErrors(merged.errors) };
    // A CancelAll whose answer was lost may have cancelled orders: only a lower bound is said, never its count as 0.
    const lost = (report.lostAnswers?.length ?? 0) > 0;
    const cancelled = lost ? cancelledPhrase(report) : report.canceled !== null ? `${report.canceled} cancelled` : report.attempts === 0 ? 'no cancel sent' : 'the cancel failed';
    // A hand-over (no follow-up) answers for Kraken alone: the kill that handed it over read its own fence.
    const ok = fence ? confirmedClear(report.confirmed, fence) : report.confirmed;
    // Confirmed by the halt's cancel alone: said, with the recheck that could not read after it.
    const recheck = report.confirmed && !now.confirmed ? ` Kraken said so at ${report.confirmedAt ?? 'the halt\'s cancel'}; a recheck after it could not read the open orders${now.errors.length ? ` (${now.errors.at(-1)})` : ''}.` : '';
    const outcome = (report.confirmed
      ? `Kraken: ${lost ? confirmedClearPhrase(report) : `${cancelled}, none open (confirmed)`}.${recheck}`
      : `Kraken: ${cancelled}, zero open orders NOT confirmed after ${triesCount(report.attempts)}${report.survivors.length ? ` (${report.survivors.length} still open)` : ''}${now.errors.length ? ` (${now.errors.at(-1)})` : ''}.`)
      + (fence && ordersMayLand(fence) ? ` ${inFlightPhrase(fence)}: check \`ctb reconcile\`.` : '');
    const details = { report, ...(fence ? { fence } : {}), ...(followUp ? { tries: tries + 1 } : {}) };
    if (followUp && !ok) {
      const { at: giveUpAt, written, spanMs, said: giveUpSaid } = await giveUpAtNow(ctx, request);
      const retryAt = new Date(ctx.clock.now().getTime() + followUpRetryDelayMs(ctx.config.KRAKEN_RATE_TIER, tries + 1));
      if (retryAt.getTime() <= giveUpAt) {
        const summary = `Cancel pending — the bot retries until Kraken confirms, next try at ${retryAt.toISOString()} (try ${tries + 1} failed; it gives up at ${giveUpSaid}). ${outcome}`;
        ctx.logger.warn({ requestId: request.id, report, fence, retryAt: retryAt.toISOString() }, `kill follow-up: ${summary}`);
        return { ok: false, summary, details: { ...details, nextTryAt: retryAt.toISOString(), giveUpAt: giveUpSaid }, retryAt };
      }
      // From its writing to its give-up time, on the database's clock (a skewed writer's requested_at would shorten or stretch it).
      const minutes = Math.round(spanMs / 60_000);
      const summary = `Gave up after ${triesCount(tries + 1)} over ${minutes} min: ${outcome} Orders may remain open on Kraken: check Kraken's UI, then cancel again here.`;
      // A kill that joins it before it is closed moves its give-up time and was told the bot goes on
      // trying: then it does (the runner puts it back), and nothing says it gave up.
      const goesOn = `Cancel pending — the bot retries until Kraken confirms, next try at ${retryAt.toISOString()} (try ${tries + 1} failed; a later kill joined it and moved its give-up time). ${outcome}`;
      return {
        ok: false, summary, details,
        finishIf: { params: { giveUpAt: written }, otherwise: { ok: false, summary: goesOn, details: { ...details, nextTryAt: retryAt.toISOString() }, retryAt } },
        afterFinish: async () => {
          // Marked alerted: tellFollowUp raises the critical alert itself.
          ctx.logger.error({ ...ALERTED, requestId: request.id, report, fence }, `kill follow-up: ${summary}`);
          await tellFollowUp(ctx, request, false, summary);
        },
      };
    }
    ctx.logger.warn({ requestId: request.id, requestedBy: request.requestedBy, report, fence }, `${followUp ? 'kill follow-up' : 'cancel handed over by another process'}: ${outcome}`);
    // A hand-over's answer, merged: said unconfirmed only when neither part confirmed (alerted by the kill that handed it over).
    if (!followUp && !report.confirmed) logUnconfirmed({ logger: ctx.logger, alerted: true }, report, { requestId: request.id });
    if (followUp) await tellFollowUp(ctx, request, ok, outcome);
    return { ok, summary: outcome, details };
  };
}

/** What a hand-over keeps free of its requester's wait: the runner's poll before it took it (250 ms), writing the answer, the requester's read. */
export const HAND_OVER_ANSWER_MARGIN_MS = 1_000;

/**
 * When a hand-over's rounds must be done (on the kill's time, ctx.kill.time): the kill that handed it
 * over said how long it would still wait (params.answerWithinMs, on its own clock: only the interval
 * crosses processes); the time the request waited to be taken is not known here, so a margin is kept
 * for it and for the answer's way back. At most KILL_CONFIRM_WAIT, as the kill's own rounds. Undefined
 * for a request that says nothing of its wait: then no round waits for room.
 */
/**
 * This process's halt cancel for the kill (started at or after `killStartedAt`) that began after the
 * hand-over was taken: its answer, awaited no later than the kill waits for this one (`answerBy`,
 * else KILL_CONFIRM_WAIT). Null: none began, or it has not answered in time (then only what this
 * request's own cancel counted is said: never more than Kraken confirmed).
 */
async function lateHaltCancel(ctx: CancelAllHandlerDeps, killStartedAt: number, answerBy: number | undefined): Promise<VenueCancelReport | null> {
  const halt = haltCancelSince(ctx, killStartedAt);
  if (!halt) return null;
  const waitMs = Math.max(0, (answerBy ?? ctx.kill.time.now() + ctx.config.KILL_CONFIRM_WAIT) - ctx.kill.time.now());
  return withDeadline(halt, waitMs, "the bot's halt cancel").catch(() => null);
}

function handOverDeadline(ctx: CancelAllHandlerDeps, request: EngineRequest): number | undefined {
  const within = Number(request.params['answerWithinMs']);
  if (!Number.isFinite(within)) return undefined;
  return ctx.kill.time.now() + Math.max(0, Math.min(ctx.config.KILL_CONFIRM_WAIT, within - HAND_OVER_ANSWER_MARGIN_MS));
}

/**
 * A kill's hand-over, in the kill's rounds (bounded, in the urgent lane): later rounds of that kill —
 * this process's halt cancel, and any process's call Kraken refused, came before them — so, as the
 * kill's own rounds after its fence, they start from the rate counter every process using the key
 * recorded, and wait for room when it is full, never past the kill's wait (`answerBy`): a round sent
 * into a full counter is refused and keeps it full. Once none can go in time, the rest is the
 * follow-up's, whose tries wait for room. Marked alerted: the kill that handed this over raises its
 * own alert when Kraken is not confirmed clear.
 */
async function handedOverRounds(ctx: CancelAllHandlerDeps, answerBy: number | undefined): Promise<VenueCancelReport> {
  const { now, sleep } = ctx.kill.time;
  const krakenRoom = new KrakenRoom(ctx.config.KRAKEN_RATE_TIER, now, { counter: ctx.kill.counter, readTimeoutMs: ctx.config.KILL_DB_TIMEOUT });
  await krakenRoom.refresh();
  return clearVenue('kraken', () => ctx.exchanges.kraken(), {
    // partial: merged with this process's halt cancel, the answer is said once (cancelAllHandler).
    logger: ctx.logger, attempts: ctx.config.KILL_CONFIRM_ATTEMPTS, alerted: true, partial: true, krakenRoom, now, sleep,
    ...(answerBy !== undefined ? { confirmUntil: answerBy, deadlineName: 'the time the kill waits for this answer (KILL_HANDOFF_TIMEOUT)' } : {}),
  });
}

/**
 * A follow-up's try waits for Kraken's counter to have room for it, as every process using the key
 * recorded it (kill/shared-counter.ts): a try sent while another process's refusal says the counter
 * is full would be refused too and keep it full. Then the request goes back pending until the
 * counter has room, without counting a try. Only once in a row, and never past the give-up time: the
 * estimate paces the cancel, it never holds it. Null: try now.
 */
async function postponedForRoom(
  ctx: CancelAllHandlerDeps, request: EngineRequest, tries: number, before: VenueCancelReport | null,
): Promise<HandlerOutcome | null> {
  if (request.result?.['postponed'] === true) return null;
  const room = new KrakenRoom(ctx.config.KRAKEN_RATE_TIER, () => ctx.clock.now().getTime(), { counter: ctx.kill.counter, readTimeoutMs: ctx.config.KILL_DB_TIMEOUT });
  await room.refresh();
  const waitMs = room.waitMs();
  const { at: giveUpAt, said: giveUpSaid } = await giveUpAtNow(ctx, request);
  const retryAt = new Date(ctx.clock.now().getTime() + waitMs);
  if (waitMs <= 0 || retryAt.getTime() > giveUpAt) return null;
  const summary = `Cancel pending — the bot retries until Kraken confirms, next try at ${retryAt.toISOString()}: Kraken refused a call for the API key's rate limit (EAPI:Rate limit exceeded), and its call counter has room for a try (CancelAll + OpenOrders) only then (it gives up at ${giveUpSaid}).`;
  ctx.logger.warn({ requestId: request.id, tries, retryAt: retryAt.toISOString() }, `kill follow-up: ${summary}`);
  return {
    ok: false, summary, retryAt,
    details: { ...(before ? { report: before } : {}), ...(tries > 0 ? { tries } : {}), postponed: true, nextTryAt: retryAt.toISOString(), giveUpAt: giveUpSaid },
  };
}

/**
 * When the follow-up gives up, as its row says now: a writer that joined it while this try ran moved
 * it to the later of the two (engine-requests/store.ts). Unread, the one it was taken with.
 * `at`: on this process's clock (what its next try is weighed against); `said`: as the operator is
 * told it, the database's moment as written (params.giveUpAt), like the next try the runner names
 * (on this process's clock only for a row written without one);
 * `written`: params.giveUpAt as read (null: none), which a give-up is closed on only while it holds;
 * `spanMs`: from its writing to that give-up time (followUpSpanMs).
 */
async function giveUpAtNow(ctx: CancelAllHandlerDeps, request: EngineRequest): Promise<{ at: number; said: string; written: string | null; spanMs: number }> {
  const times = await followUpTimes(timesDeps(ctx), request);
  const raw = times.request.params['giveUpAt'];
  const written = raw === undefined || raw === null ? null : String(raw);
  const parsed = written === null ? NaN : Date.parse(written);
  const said = Number.isFinite(parsed) ? new Date(parsed).toISOString() : new Date(times.giveUpAt).toISOString();
  return { at: times.giveUpAt, said, written, spanMs: followUpSpanMs(times.request) };
}

/**
 * How long ago the request was asked for (ms), on the database's clock, with the row as read; when
 * the database does not answer (or the row is not there), counted on this process's clock from its
 * requested_at.
 */
async function askedAgo(ctx: CancelAllHandlerDeps, request: EngineRequest): Promise<{ request: EngineRequest; agoMs: number }> {
  const read = await withDeadline(askedAgoMs(ctx.db, request.id), ctx.config.KILL_DB_TIMEOUT, 'the database').catch(() => undefined);
  return read ?? { request, agoMs: ctx.clock.now().getTime() - request.requestedAt.getTime() };
}

const timesDeps = (ctx: CancelAllHandlerDeps) => ({ db: ctx.db, clock: ctx.clock, readTimeoutMs: ctx.config.KILL_DB_TIMEOUT });

/**
 * The runner of cancel_all in a trading process with the Kraken key (the kill feature's): a kill's
 * follow-up finishes the incident's cancel item it was handed (done or failed, with Kraken's answer),
 * and between its tries the item stays pending and says when the next one is.
 */
export function startCancelAllRunner(ctx: CancelAllHandlerDeps, opts: { holder: string; timer?: boolean; pollMs?: number }): RequestRunner {
  return startRequestRunner(ctx, { ...opts, handlers: { cancel_all: cancelAllHandler(ctx) }, onFinished: checklistFollowUp(ctx), onRetry: checklistRetry(ctx) });
}

/**
 * The kill's alert group hears how its follow-up ended: still not confirmed is another critical
 * occurrence; confirmed resolves the group (its escalation stops, and the thread says which bot
 * confirmed it) — a recovery is not another occurrence of the problem. A halt's follow-up tells the
 * halt's group: its kill's when it has an incident, else its own (halt-cancel.ts); confirmed, it
 * resolves both, since the halt's own may have been raised before the incident existed.
 */
export async function tellFollowUp(ctx: CancelAllHandlerDeps, request: EngineRequest, ok: boolean, summary: string): Promise<void> {
  const halt = request.params['halt'] === true;
  const group = request.incidentId ?? request.params['killId'];
  const what = halt ? 'Halted' : 'Kill switch';
  const fingerprint = halt ? haltAlertFingerprint(request.incidentId ?? null) : `kill:${String(group)}`;
  const title = ok ? `${what}: zero open orders on Kraken now confirmed (the running bot went on confirming)` : `${what}: open orders on Kraken still not confirmed cancelled`;
  if (ok && ctx.alerts.resolve) {
    const resolve = ctx.alerts.resolve;
    for (const group of halt ? haltAlertGroupsToResolve(request.incidentId ?? null) : [fingerprint]) {
      await withDeadline(resolve({ fingerprint: group, by: request.claimedBy ?? 'the running bot', note: `${title}, answering request #${request.id}. ${summary}` }),
        ctx.config.KILL_DB_TIMEOUT, 'the alert pipeline').catch((err: unknown) => ctx.logger.error({ err, fingerprint: group }, 'could not resolve the kill alert after its follow-up confirmed'));
    }
    return;
  }
  await withDeadline(ctx.alerts.raise({
    source: 'kill', severity: ok ? 'info' : 'critical', fingerprint, title,
    details: { requestId: request.id, killId: request.params['killId'], incidentId: request.incidentId, summary },
  }), ctx.config.KILL_DB_TIMEOUT, 'the alert pipeline').catch((err: unknown) => ctx.logger.error({ err }, 'could not raise the kill follow-up alert'));
}

/** A flatten asked for longer ago than this is not carried out: selling hours later is not what was asked. */
export const FLATTEN_STALE_MS = 10 * 60_000;

/** A flatten: whatever the engine's flatten needs, and the clock and log of this handler. */
export type FlattenHandlerDeps = Parameters<typeof flattenPositions>[0] & { clock: Clock; logger: Logger };

export function flattenHandler(ctx: FlattenHandlerDeps, flatten: (c: FlattenHandlerDeps) => Promise<FlattenReport> = flattenPositions): EngineRequestHandler {
  return async (request) => {
    // How long ago it was asked for is the database's count: the requester's clock (a shell's, a web
    // replica's) may be minutes off this process's. Unread, counted here from its requested_at.
    const asked = await askedAgoMs(ctx.db, request.id).catch(() => undefined);
    const agoMs = asked?.agoMs ?? ctx.clock.now().getTime() - request.requestedAt.getTime();
    if (agoMs > FLATTEN_STALE_MS) {
      const writtenAt = typeof request.params['writtenAt'] === 'string' ? request.params['writtenAt'] : request.requestedAt.toISOString();
      return { ok: false, summary: `Not carried out: requested at ${writtenAt}, more than ${FLATTEN_STALE_MS / 60_000} minutes ago; ask again if positions should still be closed.` };
    }
    const report = await flatten(ctx);
    const { closed, failed, pending } = report;
    ctx.logger.warn({ requestId: request.id, requestedBy: request.requestedBy, closed, failed, pending }, `flatten handed over by ${request.requestedBy}: ${report.summary}`);
    // Not ok while a sale is on its way (pending) or filled in part: the item is not done, and the
    // checklist shows a pending sale as awaiting the exchange's fills rather than as failed.
    return { ok: report.ok, summary: report.summary, details: { closed, failed, pending } };
  };
}

export function reconcileHandler(ctx: IncidentDeps): EngineRequestHandler {
  return async () => {
    if (ctx.exchanges.hasKrakenKeys()) {
      const outcome = await reconcileHere(ctx);
      return { ok: outcome.state === 'done', summary: outcome.summary, ...(outcome.details ? { details: outcome.details } : {}) };
    }
    // No key here either: only a bot that never sent a live order has nothing on Kraken to compare.
    const live = await liveLedgerCounts(ctx.db);
    if (live.intents === 0 && live.fills === 0) {
      return { ok: true, summary: 'Nothing on Kraken to reconcile: the ledger holds no live order intent and no live fill (paper only), and no process asked has a Kraken key. Kraken was not read.' };
    }
    return {
      ok: false,
      summary: `Refused: the ledger holds ${live.intents} live order intent(s) and ${live.fills} live fill(s), but neither the asking process nor the engine's has a Kraken key to read Kraken's history. Run ctb reconcile where the key is, then tick this item again.`,
    };
  };
}

/** The incident's two kinds alone (tests stand in for the engine's process with them). */
export function incidentHandlers(ctx: FlattenHandlerDeps & IncidentDeps): EngineRequestHandlers {
  return { flatten: flattenHandler(ctx), reconcile: reconcileHandler(ctx) };
}

/** What the engine's process hands its handlers: the union of what each kind's handler needs. */
export type EngineHandlerDeps = Parameters<typeof cancelOrderHandler>[0] & Parameters<typeof adoptOrderHandler>[0]
  & Parameters<typeof exitTradeHandler>[0] & FlattenHandlerDeps & IncidentDeps;

/** Builds one kind's handler for a running bot's context. */
export type EngineRequestHandlerFactory = (ctx: EngineHandlerDeps) => EngineRequestHandler;

/** What the engine's process (the lease holder) does for others. Each area adds its kinds here. */
const ENGINE_HANDLERS: Partial<Record<EngineRequestKind, EngineRequestHandlerFactory>> = {
  cancel_order: cancelOrderHandler,
  adopt_order: adoptOrderHandler,
  exit_trade: exitTradeHandler,
  flatten: (ctx) => flattenHandler(ctx),
  reconcile: reconcileHandler,
};

export function engineRequestHandlers(ctx: EngineHandlerDeps): EngineRequestHandlers {
  const handlers: EngineRequestHandlers = {};
  for (const [kind, factory] of Object.entries(ENGINE_HANDLERS) as Array<[EngineRequestKind, EngineRequestHandlerFactory]>) handlers[kind] = factory(ctx);
  return handlers;
}

/**
 * What the engine's runner does after it finished a request: the incident's checklist item follows
 * the answer, and an exit nobody waits for any more is told to the alert channel (exits/tell-exit.ts).
 */
export function engineRequestFollowUp(ctx: Parameters<typeof checklistFollowUp>[0] & Parameters<typeof exitFollowUp>[0]): NonNullable<Parameters<typeof startRequestRunner>[1]['onFinished']> {
  const checklist = checklistFollowUp(ctx);
  const exit = exitFollowUp(ctx);
  return async (request, outcome) => {
    await checklist(request, outcome);
    await exit(request, outcome);
  };
}
