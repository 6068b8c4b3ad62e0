// Owns the engine side of an operator's exit handed over as an engine request (kind exit_trade):
// the process that runs the engine exits the trade(s) through the engine's own order path
// (manual-exit.ts) and answers with what happened to each — never "done" for an order not filled.
import { z } from 'zod';
import type { Clock } from '../clock.js';
import type { EngineRequest } from '../db/schema/index.js';
import type { EngineRequestHandler, HandlerOutcome } from '../services/engine-requests/runner.js';
import { describeExit } from '../domain/exit-outcome.js';
import type { Logger } from '../logger.js';
import { runningEngine, type ManualExitOutcome } from './manual-exit.js';

export const exitRequestParams = z.object({
  /** One trade id, or 'all' (every trade open in the engine's book when the request runs). */
  target: z.union([z.number().int().positive(), z.literal('all')]),
  reason: z.string().max(500).optional(),
});
export type ExitRequestParams = z.infer<typeof exitRequestParams>;

/**
 * What the handler needs: the context object the running engine is registered under (manual-exit.ts),
 * which carries the logger the outcome is written to.
 */
export interface ExitRequestDeps {
  logger: Logger;
  clock: Clock;
}

/** While the engine is starting in the process that holds the lease, the exit is tried again this much later. */
export const EXIT_WAIT_FOR_ENGINE_MS = 1_000;

export function exitTradeHandler(ctx: ExitRequestDeps): EngineRequestHandler {
  return async (request: EngineRequest): Promise<HandlerOutcome> => {
    const parsed = exitRequestParams.safeParse(request.params);
    if (!parsed.success) return { ok: false, summary: `Bad exit request: ${z.prettifyError(parsed.error)}` };
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
    const { target, reason } = parsed.data;
    const ids = target === 'all' ? open : [target];
    if (ids.length === 0) return { ok: true, summary: `No open trades in the engine's ${engine.mode} book: nothing to exit.`, details: { results: [] } };
    const why = `manual exit by ${request.requestedBy}${reason ? `: ${reason}` : ''}`;
    const results: ManualExitOutcome[] = [];
    for (const id of ids) results.push(await engine.exitTrade(id, why));
    const closed = results.filter((r) => r.ok).length;
    ctx.logger.warn({ requestId: request.id, by: request.requestedBy, results }, `manual exit: ${closed} of ${results.length} closed`);
    const summary = results.length === 1 ? describeExit(results[0]!) : `${closed} of ${results.length} closed. ${results.map(describeExit).join('; ')}`;
    return { ok: closed === results.length, summary: summary.slice(0, 1900), details: { results } };
  };
}
