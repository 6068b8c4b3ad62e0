// Owns a kill's follow-up cancel on Kraken once the kill (or an incident's "cancel again") answered
// unconfirmed: the running bot with the key carries out the cancel_all engine request it was written
// as (params.followUp), one try at a time — CancelAll (idempotent), then OpenOrders to confirm — and
// between tries the request waits pending in the database until its next try (not_before), so a bot
// restart loses nothing and the incident shows when the next try is. The waits respect Kraken's REST
// call counter, which is one per key and filled by every program using it: they start at the time
// the counter takes to make room for one try and double up to the time a full counter takes to fall
// (Starter ~45 s), since every refused call only keeps it full. One is open at a time (a later kill
// joins it: engine-requests/store.ts). It stops when Kraken confirms none open, when the kill is
// superseded (its incident closed by a resume, its cancel item done or handed to a later request),
// or at its give-up time — CANCEL_FOLLOW_UP_MS after it was written, or after a later writer joined
// it (followUpGiveUpAt), on the database's clock (followUpTimes) — then it gives up loudly (the
// handler's critical alert).
import { CANCEL_FOLLOW_UP_MS } from '../../domain/cancel-handover.js';
export { CANCEL_FOLLOW_UP_MS };
import { checklistItem } from '../../db/queries/kill-checklist.js';
import { followUpWithAges, openIncidentFollowUp } from '../../db/queries/engine-requests.js';
import { incidentById } from '../../db/queries/kill-incidents.js';
import { getBotState } from '../bot-state.js';
import type { Clock } from '../../clock.js';
import type { Db } from '../../db/client.js';
import type { EngineRequest } from '../../db/schema/index.js';
import { AppError } from '../../errors.js';
import { rateLimited } from '../../exchange/kraken/call-retry.js';
import { counterRoomMs, PRIVATE_COUNTER, type KrakenTier } from '../../exchange/kraken/rate-limiter.js';
import { backoffDelay } from '../../retry.js';
import type { Exchange } from '../../exchange/types.js';
import { urgently } from '../../exchange/urgency.js';
import { cancelMayHaveRun, type VenueCancelReport } from './cancel-everywhere.js';
import { describeError, withDeadline } from './deadline.js';
import { CANCEL_ROUND_COST } from './kraken-room.js';

/** What one try adds to Kraken's REST counter: a kill's round, CancelAll and OpenOrders (kraken-room.ts). */
export const FOLLOW_UP_TRY_COST = CANCEL_ROUND_COST;

/** The wait after try `tries` (1-based) failed: room for one try on the tier's counter, doubled each try, at most a full counter's fall. */
export function followUpRetryDelayMs(tier: KrakenTier, tries: number): number {
  return backoffDelay({ baseMs: counterRoomMs(tier, FOLLOW_UP_TRY_COST), maxMs: counterRoomMs(tier, PRIVATE_COUNTER[tier].max) }, tries);
}

/**
 * When the follow-up gives up: its params.giveUpAt (CANCEL_FOLLOW_UP_MS after it was written, moved
 * later by a writer that joined it: engine-requests/store.ts), or for a request written without one,
 * CANCEL_FOLLOW_UP_MS after it was requested.
 */
export function followUpGiveUpAt(request: Pick<EngineRequest, 'params' | 'requestedAt'>): number {
  const at = Date.parse(String(request.params['giveUpAt'] ?? ''));
  return Number.isFinite(at) ? at : request.requestedAt.getTime() + CANCEL_FOLLOW_UP_MS;
}

/**
 * How long the follow-up is given from its writing to its give-up time (ms), both on the database's
 * clock (params.writtenAt, params.giveUpAt): the writer's requested_at is its own clock, which may be
 * minutes off the database's and the bot's. A request written without them: its requested_at to
 * followUpGiveUpAt.
 */
export function followUpSpanMs(request: Pick<EngineRequest, 'params' | 'requestedAt'>): number {
  const written = Date.parse(String(request.params['writtenAt'] ?? ''));
  const giveUp = Date.parse(String(request.params['giveUpAt'] ?? ''));
  return Number.isFinite(written) && Number.isFinite(giveUp) ? giveUp - written : followUpGiveUpAt(request) - request.requestedAt.getTime();
}

/** A follow-up's give-up time on this process's clock (ms): see followUpTimes. */
export interface FollowUpTimes {
  /** The row as read now (the one given when it could not be read). */
  request: EngineRequest;
  giveUpAt: number;
}

/**
 * The follow-up's give-up time as this process counts it. It is written on the database's clock
 * (engine-requests/store.ts), which this process's may be skewed from, so it is read as an age there
 * and counted from this process's now. When the database does not answer (in `readTimeoutMs`), the
 * time as written in `request`.
 */
export async function followUpTimes(deps: { db: Db; clock: Clock; readTimeoutMs?: number }, request: EngineRequest): Promise<FollowUpTimes> {
  const reading = followUpWithAges(deps.db, request.id);
  const read = await (deps.readTimeoutMs === undefined ? reading : withDeadline(reading, deps.readTimeoutMs, 'the database')).catch(() => undefined);
  const row = read?.request ?? request;
  const giveUpAt = read && read.giveUpInMs !== null ? deps.clock.now().getTime() + read.giveUpInMs : followUpGiveUpAt(row);
  return { request: row, giveUpAt };
}

/** How many tries a follow-up request has had (its last try's result counts them). */
export function followUpTries(request: EngineRequest): number {
  const tries = Number(request.result?.['tries']);
  return Number.isInteger(tries) && tries > 0 ? tries : 0;
}

/** The Kraken report of the follow-up's earlier tries, if any. */
export function earlierReport(request: EngineRequest): VenueCancelReport | null {
  const report = request.result?.['report'] as VenueCancelReport | undefined;
  return report && report.venue === 'kraken' && Array.isArray(report.survivors) && Array.isArray(report.errors) ? report : null;
}

/**
 * One try: CancelAll, then OpenOrders to confirm, in the urgent lane. A CancelAll refused because
 * the key's counter is full sends no OpenOrders (it would be refused too, and keep the counter full).
 */
export async function tryCancelOnce(exchange: Exchange, timeoutMs = 10_000): Promise<{ report: VenueCancelReport; rateLimited: boolean }> {
  return urgently(async () => {
    const report: VenueCancelReport = { venue: 'kraken', canceled: null, confirmed: false, attempts: 1, survivors: [], errors: [] };
    const limited = (err: unknown) => err instanceof AppError && rateLimited(err);
    try {
      report.canceled = (await withDeadline(exchange.cancelAllOrders(), timeoutMs, 'kraken cancel-all')).canceled;
    } catch (err) {
      report.errors.push(`cancel-all: ${describeError(err)}`);
      // Its answer lost (not Kraken's refusal): it may have cancelled orders this count leaves out.
      if (cancelMayHaveRun(err)) report.lostAnswers = [1];
      if (limited(err)) return { report, rateLimited: true };
    }
    try {
      const open = await withDeadline(exchange.fetchOpenOrders(), timeoutMs, 'kraken open-orders query');
      report.survivors = open.map((o) => ({ exchangeOrderId: o.exchangeOrderId, clientOrderId: o.clientOrderId, symbol: o.symbol, side: o.side, quantity: o.quantity }));
      report.confirmed = open.length === 0;
    } catch (err) {
      report.errors.push(`open-orders query: ${describeError(err)}`);
      return { report, rateLimited: limited(err) };
    }
    return { report, rateLimited: false };
  });
}

/**
 * Why the follow-up should stop without trying (its kill superseded), or null to go on: its incident
 * was closed (a resume), or its cancel item was done or handed to a later request (a cancel again)
 * after this one was written. An item not yet pointed at this request (its writer marks
 * it just after writing it) is no reason to stop. A halt's follow-up without an incident stops when
 * the halt is lifted (a resumed bot's new orders are not the halt's to cancel), or when an open
 * incident's follow-up is open beside it (written in the moment between its own look for an incident
 * and its write): one follow-up cancels at a time.
 */
export async function supersededBy(db: Db, request: EngineRequest): Promise<string | null> {
  if (request.incidentId === null) {
    if (request.params['halt'] !== true) return null;
    if (!(await getBotState(db)).halted) return 'the halt was lifted (trading resumed)';
    // Written while a kill's incident was being written: that incident's follow-up cancels for both.
    const taken = await openIncidentFollowUp(db);
    return taken && taken.id !== request.id ? `the cancel goes on as request #${taken.id}, incident #${taken.incidentId}'s` : null;
  }
  const incident = await incidentById(db, request.incidentId);
  if (incident && incident.status !== 'open') return `incident #${incident.id} was closed (trading resumed)`;
  const item = await checklistItem(db, request.incidentId, 'cancel_orders');
  if (!item) return null;
  if (item.doneAt && item.doneAt.getTime() > request.requestedAt.getTime()) return `its cancel item was done by ${item.doneBy ?? 'someone'} at ${item.doneAt.toISOString()}`;
  if (item.requestId !== null && item.requestId > request.id) return `its cancel item was handed to request #${item.requestId} (a later kill or cancel again)`;
  return null;
}
