// Owns the engine side of an operator's exit handed over as an engine request (kind exit_trade):
// the process that runs the engine exits the trade(s) through the engine's own order path
// (manual-exit.ts) and answers with what happened to each — never "done" for an order not filled.
// The request carries the book the operator was shown (its mode; for `all`, the trade ids listed):
// the exit closes those trades and no others, and is refused when the engine trades the other book.
import { z } from 'zod';
import type { Clock } from '../clock.js';
import type { Config } from '../config/env.js';
import type { Db } from '../db/client.js';
import { exitWaitOf } from '../db/queries/engine-requests.js';
import type { EngineRequest } from '../db/schema/index.js';
import { exitExpiredSummary } from '../services/exits/exit-expiry.js';
import type { EngineRequestHandler, HandlerOutcome } from '../services/engine-requests/runner.js';
import { describeExit } from '../domain/exit-outcome.js';
import type { Logger } from '../logger.js';
import { runningEngine, type ManualExitOutcome } from './manual-exit.js';

export const exitRequestParams = z.object({
  /** One trade id, or 'all' (the trades of tradeIds still open in the engine's book when the request runs). */
  target: z.union([z.number().int().positive(), z.literal('all')]),
  reason: z.string().max(500).optional(),
  /** The book the preview listed (request-exit.ts exitBook): the engine refuses the exit in the other. */
  mode: z.enum(['paper', 'live']).optional(),
  /** For `all`: the trades the preview listed, the only ones the exit may close. */
  tradeIds: z.array(z.number().int().positive()).max(10_000).optional(),
  /** How long its requester waits for the answer (ms, from its writing): finished later, it is told to the alert channel. */
  waitMs: z.number().int().min(0).optional(),
  /** For `all`: the trades listed it left out because another queued exit already closed them, and that note, said again with its answer. */
  skipped: z.object({ note: z.string().max(4000), tradeIds: z.array(z.number().int().positive()).max(10_000) }).optional(),
});
export type ExitRequestParams = z.infer<typeof exitRequestParams>;

/**
 * What the handler needs: the context object the running engine is registered under (manual-exit.ts),
 * which carries the logger the outcome is written to.
 */
export interface ExitRequestDeps {
  logger: Logger;
  clock: Clock;
  db: Db;
  config: Pick<Config, 'EXIT_REQUEST_TTL'>;
}

/**
 * How long the exit has waited since it was confirmed (ms) and whether past its TTL: on the database's
 * clock by the rule that closes expired exits (exitWaitOf; the requester's clock may be minutes off
 * this one); when the database does not answer, on this process's clock from its requested_at.
 */
async function waitOf(ctx: ExitRequestDeps, request: EngineRequest): Promise<{ waitedMs: number; expired: boolean }> {
  const ttlMs = ctx.config.EXIT_REQUEST_TTL;
  const read = await exitWaitOf(ctx.db, request.id, ttlMs).catch(() => undefined);
  if (read) return read;
  const waitedMs = ctx.clock.now().getTime() - request.requestedAt.getTime();
  return { waitedMs, expired: waitedMs > ttlMs };
}

/** While the engine is starting in the process that holds the lease, the exit is tried again this much later. */
export const EXIT_WAIT_FOR_ENGINE_MS = 1_000;

export function exitTradeHandler(ctx: ExitRequestDeps): EngineRequestHandler {
  return async (request: EngineRequest): Promise<HandlerOutcome> => {
    const parsed = exitRequestParams.safeParse(request.params);
    if (!parsed.success) return { ok: false, summary: `Bad exit request: ${z.prettifyError(parsed.error)}` };
    const { target, reason, mode, tradeIds } = parsed.data;
    if (!mode || (target === 'all' && !tradeIds)) {
      return { ok: false, summary: 'Not carried out: the request does not say which book (and, for all, which trades) the operator was shown, so it could close trades nobody confirmed: nothing was sent. Ask for the exit again.' };
    }
    // Older than its TTL (no engine ran, or it started too late): never sold at the price of hours later.
    const waited = await waitOf(ctx, request);
    if (waited.expired) {
      const summary = exitExpiredSummary(waited.waitedMs, ctx.config.EXIT_REQUEST_TTL);
      ctx.logger.warn({ requestId: request.id, by: request.requestedBy, waitedMs: waited.waitedMs }, `manual exit: ${summary}`);
      return { ok: false, summary, details: { expired: true } };
    }
    const engine = runningEngine(ctx);
    const open = engine?.openTradeIds() ?? null;
    // The runner takes requests as soon as this process holds the lease; the engine registers and
    // loads its book a moment later (gate policy, reconciliation's start): the exit waits for it.
    if (!engine || !open) {
      return {
        ok: false, retryAt: new Date(ctx.clock.now().getTime() + EXIT_WAIT_FOR_ENGINE_MS),
        summary: `Pending: the engine is starting in the process that holds its lease (it has ${engine ? 'not loaded its book yet' : 'not started yet'}); the exit is carried out once it runs.`,
      };
    }
    if (engine.mode !== mode) {
      const summary = `Refused: the exit was confirmed for the ${mode} book, but the engine trades ${engine.mode} now (the mode changed since): nothing was sent. Look again with /exit or ctb exit.`;
      ctx.logger.warn({ requestId: request.id, by: request.requestedBy, confirmedMode: mode, engineMode: engine.mode }, `manual exit: ${summary}`);
      return { ok: false, summary };
    }
    const { ids, note, leftOpen } = target === 'all' ? listedOpen(open, tradeIds ?? []) : { ids: [target], note: '', leftOpen: [] };
    if (ids.length === 0) return { ok: true, summary: `No listed trade open in the engine's ${engine.mode} book: nothing to exit.${note}`, details: { results: [], leftOpen } };
    const why = `manual exit by ${request.requestedBy}${reason ? `: ${reason}` : ''}`;
    const results: ManualExitOutcome[] = [];
    for (const id of ids) results.push(await engine.exitTrade(id, why));
    const closed = results.filter((r) => r.ok).length;
    ctx.logger.warn({ requestId: request.id, by: request.requestedBy, results }, `manual exit: ${closed} of ${results.length} closed`);
    const summary = (results.length === 1 ? describeExit(results[0]!) : `${closed} of ${results.length} closed. ${results.map(describeExit).join('; ')}`).slice(0, 1900 - note.length) + note;
    return { ok: closed === results.length, summary, details: { results, ...(leftOpen.length > 0 ? { leftOpen } : {}) } };
  };
}

const idList = (ids: readonly number[]): string => ids.slice(0, 20).map((id) => `#${id}`).join(', ') + (ids.length > 20 ? ` and ${ids.length - 20} more` : '');

/**
 * `all` closes the trades listed to the operator and no others: one opened since stays open, and one
 * listed but closed since (by its strategy) is not sold twice; both said.
 */
function listedOpen(open: readonly number[], listed: readonly number[]): { ids: number[]; note: string; leftOpen: number[] } {
  const isListed = new Set(listed);
  const isOpen = new Set(open);
  const leftOpen = open.filter((id) => !isListed.has(id));
  const gone = listed.filter((id) => !isOpen.has(id));
  const note = (gone.length > 0 ? ` Closed since they were listed: ${idList(gone)}.` : '')
    + (leftOpen.length > 0 ? ` Left open, not listed when the exit was confirmed: ${idList(leftOpen)}; exit them with /exit or ctb exit.` : '');
  return { ids: open.filter((id) => isListed.has(id)), note, leftOpen };
}
