// Owns what the exits still queued are, as `/trades`, `ctb trades` and a second exit read them: which
// trades each one covers (one trade, or the trades `all` listed), who asked, how long it has waited
// and when it expires — on the database's clock, by the rule that closes expired exits.
import type { Config } from '../../config/env.js';
import type { Db } from '../../db/client.js';
import { openExitRequestsWithWait } from '../../db/queries/engine-requests.js';
import { describePendingExit, type ExitTarget } from '../../domain/exit-request-state.js';

export { describePendingExit };
import { exitRequestParams } from '../../engine/exit-request.js';
import { exitQueuedPhrase } from './exit-expiry.js';

export interface PendingExitRow {
  requestId: number;
  target: ExitTarget;
  /** The trades it closes: its one trade, or those `all` listed. */
  tradeIds: number[];
  requestedBy: string;
  /** pending: waiting for the engine; running: the engine is carrying it out now. */
  status: 'pending' | 'running';
  waitedMs: number;
  ttlMs: number;
  /** How it stands, in words (exit-expiry.ts). */
  queued: string;
}

/** The trades a request's params ask to close (none when they do not parse). */
export function exitCovers(params: unknown): { target: ExitTarget; tradeIds: number[] } | null {
  const p = exitRequestParams.safeParse(params);
  if (!p.success) return null;
  return { target: p.data.target, tradeIds: p.data.target === 'all' ? [...(p.data.tradeIds ?? [])] : [p.data.target] };
}

/** The exits still queued or being carried out, oldest first. */
export async function pendingExits(ctx: { db: Db; config: Pick<Config, 'EXIT_REQUEST_TTL'> }): Promise<PendingExitRow[]> {
  const ttlMs = ctx.config.EXIT_REQUEST_TTL;
  return (await openExitRequestsWithWait(ctx.db)).map(({ request, waitedMs }) => {
    const covers = exitCovers(request.params) ?? { target: 'all' as const, tradeIds: [] };
    const status = request.status === 'running' ? 'running' as const : 'pending' as const;
    return {
      requestId: request.id, ...covers, requestedBy: request.requestedBy, status, waitedMs, ttlMs,
      queued: status === 'running' ? 'the engine is carrying it out now' : exitQueuedPhrase(waitedMs, ttlMs),
    };
  });
}
