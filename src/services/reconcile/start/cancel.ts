// Owns `ctb reconcile cancel <txid>` in a process with the Kraken key (the CLI's, or the engine's for a
// request): cancel the order on Kraken, confirm it is no longer open, and — when reconciliation is
// blocked — reconcile again, so a block whose last difference this was lifts at once.
import type { Database } from '../../../db/client.js';
import type { EngineRequest } from '../../../db/schema/index.js';
import type { Exchange } from '../../../exchange/types.js';
import { withOrderLock } from '../../../engine/order-lock.js';
import { getBotState } from '../../bot-state.js';
import type { EngineRequestHandler, HandlerOutcome } from '../../engine-requests/runner.js';
import { describeError } from '../../kill/deadline.js';
import { cancelKrakenOrder, parseKrakenId } from '../cancel-order.js';
import { adoptFromKraken } from './adopt.js';
import { runReconciliation, type ReconciliationDeps } from './run.js';

export async function cancelAndRecheck(ctx: ReconciliationDeps & { database: Database }, txid: string, exchange: Exchange = ctx.exchanges.kraken(), by?: string): Promise<HandlerOutcome> {
  const outcome = await cancelKrakenOrder(exchange, txid);
  const details: Record<string, unknown> = { txid, cancelled: outcome.cancelled, gone: outcome.gone };
  if (!outcome.ok || !(await getBotState(ctx.db)).reconciliationBlocked) return { ok: outcome.ok, summary: outcome.summary, details };
  try {
    // Under the order lock, as the monitor's runs are (adopt.ts says why); the cancel itself never waits for it.
    const after = await withOrderLock(ctx, () => runReconciliation(ctx, { cause: 'operator', exchange, ...(by ? { by } : {}) }));
    details['after'] = { ok: after.ok, differences: after.differences, reconciledThrough: after.reconciledThrough, halt: after.halt };
    const rest = after.differences.length;
    return {
      ok: true, details,
      summary: `${outcome.summary} ${rest === 0 ? `Reconciliation passes${after.halt === 'lifted' ? ': the reconciliation halt is lifted' : ''}.` : `${rest} difference(s) remain (ctb reconcile).`}`,
    };
  } catch (err) {
    return { ok: true, details, summary: `${outcome.summary} Reconciliation could not run again yet (${describeError(err)}): the block stays until it passes; run ctb reconcile to look again.` };
  }
}

/** The engine request `cancel_order` ({ txid }): for a process without the Kraken key. */
export const cancelOrderHandler = (ctx: ReconciliationDeps & { database: Database }): EngineRequestHandler => async (request: EngineRequest) =>
  cancelAndRecheck(ctx, parseKrakenId(request.params['txid']), undefined, request.requestedBy);

/** The engine request `adopt_order` ({ txid }): for a process without the Kraken key. */
export const adoptOrderHandler = (ctx: ReconciliationDeps & { database: Database }): EngineRequestHandler => async (request: EngineRequest) => {
  const r = await adoptFromKraken(ctx, parseKrakenId(request.params['txid']), { actor: request.requestedBy });
  return { ok: r.ok, summary: r.summary, details: { adopted: r.adopted, after: r.after } };
};
