// Owns the engine side of an operator's exit handed over as an engine request (kind exit_trade):
// the process that runs the engine exits the trade(s) through the engine's own order path
// (manual-exit.ts) and answers with what happened to each — never "done" for an order not filled.
import { z } from 'zod';
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
}

export function exitTradeHandler(ctx: ExitRequestDeps): EngineRequestHandler {
  return async (request: EngineRequest): Promise<HandlerOutcome> => {
    const parsed = exitRequestParams.safeParse(request.params);
    if (!parsed.success) return { ok: false, summary: `Bad exit request: ${z.prettifyError(parsed.error)}` };
    const engine = runningEngine(ctx);
    if (!engine) return { ok: false, summary: 'No engine is running in the process that took the request: nothing was sent.' };
    const { target, reason } = parsed.data;
    const ids = target === 'all' ? engine.openTradeIds() ?? [] : [target];
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
