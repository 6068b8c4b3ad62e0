// Owns telling how a confirmed exit ended when nobody is waiting for its answer any more: the
// request carries its requester's wait (params.waitMs: ctb exit's --wait, the Slack button's), so
// when it finishes after that wait on the database's clock — carried out, refused or expired — the
// alert channel hears the outcome and who asked, even when the requester died while waiting.
import type { AlertSink } from '../../alerts/types.js';
import type { Db } from '../../db/client.js';
import type { EngineRequest } from '../../db/schema/index.js';
import type { Logger } from '../../logger.js';
import { getEngineRequest, requesterStoppedWaiting } from '../engine-requests/store.js';
import type { HandlerOutcome } from '../engine-requests/runner.js';

export interface TellExitDeps {
  db: Db;
  alerts: Pick<AlertSink, 'raise'>;
  logger: Logger;
}

/** The alert that tells a finished exit's outcome, or null while it is open. */
export function exitOutcomeAlert(row: EngineRequest): Parameters<AlertSink['raise']>[0] | null {
  if (row.kind !== 'exit_trade' || (row.status !== 'done' && row.status !== 'failed')) return null;
  const result = (row.result ?? {}) as { summary?: unknown; expired?: unknown };
  const summary = typeof result.summary === 'string' ? result.summary : row.error ?? '';
  const how = row.status === 'done' ? 'carried out' : result.expired === true ? 'expired: nothing was sold' : 'not carried out';
  const target = row.params['target'] === 'all' ? 'every listed trade' : `trade #${String(row.params['target'])}`;
  const confirmed = typeof row.params['writtenAt'] === 'string' ? ` (confirmed at ${row.params['writtenAt']})` : '';
  return {
    source: 'engine', severity: row.status === 'done' ? 'info' : 'warning', fingerprint: `exit_request:${row.id}`,
    title: `Exit of ${target} asked by ${row.requestedBy}${confirmed}, request #${row.id}: ${how} — ${summary}`.slice(0, 1500),
    details: { requestId: row.id, requestedBy: row.requestedBy, status: row.status, summary },
  };
}

/** Tells the alert channel how a finished exit ended when its requester no longer waits for it. */
export async function tellExitOutcome(ctx: TellExitDeps, row: EngineRequest): Promise<void> {
  const alert = exitOutcomeAlert(row);
  // Its requester still waits (its wait is not over on the database's clock): it reads the answer itself.
  if (!alert || !(await requesterStoppedWaiting(ctx.db, row))) return;
  await ctx.alerts.raise(alert).catch((err: unknown) => ctx.logger.error({ err, requestId: row.id }, 'could not tell the alert channel how an exit ended'));
}

/** The engine's runner, after it finished a request: an exit's outcome is told when its requester stopped waiting. */
export function exitFollowUp(ctx: TellExitDeps): (request: EngineRequest, outcome: HandlerOutcome) => Promise<void> {
  return async (request) => {
    if (request.kind !== 'exit_trade') return;
    const row = await getEngineRequest(ctx.db, request.id);
    if (row) await tellExitOutcome(ctx, row);
  };
}
