// Owns the handlers of engine requests: what a process that holds the capability does when another
// process hands it work. Each is a function of this process's context that returns the handler of
// one kind; a feature registers the ones its process can carry out with startRequestRunner.
//   cancel_all — a kill in a process without the Kraken key: CancelAll on Kraken, then confirm zero
//   open orders with OpenOrders (bounded rounds, in the urgent lane); the result says what Kraken
//   said it cancelled — counting the cancel this process already made when it learned of that
//   kill's halt (halt-cancel.ts), which usually removes the orders first — and what is still open.
import type { AppContext } from '../../app/context.js';
import { clearVenue, mergeVenueReports } from '../kill/cancel-everywhere.js';
import { haltCancelSince } from '../kill/halt-cancel.js';
import type { EngineRequestHandler } from './runner.js';

/** A request older than this is not carried out: its requester stopped waiting long ago. */
export const CANCEL_ALL_STALE_MS = 5 * 60_000;

export function cancelAllHandler(ctx: Pick<AppContext, 'config' | 'exchanges' | 'logger' | 'clock' | 'jobs'>): EngineRequestHandler {
  return async (request) => {
    if (ctx.clock.now().getTime() - request.requestedAt.getTime() > CANCEL_ALL_STALE_MS) {
      return { ok: false, summary: `Not carried out: requested at ${request.requestedAt.toISOString()}, too long ago to act on.` };
    }
    if (!ctx.exchanges.hasKrakenKeys()) return { ok: false, summary: 'This process has no Kraken key either.' };
    // The halt this kill wrote reached this process first: what Kraken answered then is part of the kill's count.
    const killStartedAt = Date.parse(String(request.params['killStartedAt'] ?? ''));
    const haltCancel = Number.isFinite(killStartedAt) ? haltCancelSince(ctx, killStartedAt) : null;
    const before = haltCancel ? await haltCancel.catch(() => null) : null;
    const now = await clearVenue('kraken', () => ctx.exchanges.kraken(), { logger: ctx.logger, attempts: ctx.config.KILL_CONFIRM_ATTEMPTS });
    const report = before ? mergeVenueReports(before, now) : now;
    const cancelled = report.canceled === null ? 'the cancel failed' : `${report.canceled} cancelled`;
    const summary = report.confirmed
      ? `Kraken: ${cancelled}, none open (confirmed).`
      : `Kraken: ${cancelled}, zero open orders NOT confirmed after ${report.attempts} tries${report.survivors.length ? ` (${report.survivors.length} still open)` : ''}.`;
    ctx.logger.warn({ requestId: request.id, requestedBy: request.requestedBy, report }, `cancel handed over by another process: ${summary}`);
    return { ok: report.confirmed, summary, details: { report } };
  };
}
