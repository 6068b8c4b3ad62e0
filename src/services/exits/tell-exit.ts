// Owns telling how a confirmed exit ended when its requester did not show the answer: it died
// while waiting (a SIGKILLed shell, a restarted replica), or stopped waiting (params.waitMs: ctb exit's
// --wait, the Slack button's) before the exit was carried out, refused or expired. The requester marks
// the answer shown when it showed it (exit-outcomes.ts); an answer nobody showed within a grace of its
// finishing — or of its requester's wait, whichever comes first — is claimed once across processes and
// told to the alert channel. A shown answer is never told again.
import type { AlertSink } from '../../alerts/types.js';
import type { Db } from '../../db/client.js';
import type { EngineRequest } from '../../db/schema/index.js';
import type { Logger } from '../../logger.js';
import { claimUntoldExitOutcomes, noticeUnshownExitAnswers, releaseExitOutcomeClaim } from '../../db/queries/exit-outcomes.js';
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

/**
 * How long after an answer was first found unshown (or after its requester's wait) it is left to its
 * requester: a live one reads it within its poll (100 ms) and marks it shown at once; Slack's button
 * updates its message first.
 */
export const EXIT_SHOWN_GRACE_MS = 5_000;

/**
 * Tells the alert channel the outcome of every answered exit nobody showed once its grace is over
 * (with `ids`, only those): claimed first, so each is told by one process once; a telling that failed
 * is put back for the next sweep. Returns how many were told.
 */
export async function tellUnshownExits(ctx: TellExitDeps, opts: { ids?: readonly number[] } = {}): Promise<number> {
  await noticeUnshownExitAnswers(ctx.db);
  const claimed = await claimUntoldExitOutcomes(ctx.db, { graceMs: EXIT_SHOWN_GRACE_MS, ...(opts.ids ? { ids: opts.ids } : {}) });
  let told = 0;
  for (const row of claimed) {
    const alert = exitOutcomeAlert(row);
    if (!alert) continue;
    try {
      await ctx.alerts.raise(alert);
      told += 1;
    } catch (err) {
      ctx.logger.error({ err, requestId: row.id }, 'could not tell the alert channel how an exit ended; told on the next sweep');
      await releaseExitOutcomeClaim(ctx.db, row.id).catch((e: unknown) => ctx.logger.error({ err: e, requestId: row.id }, 'could not put back the claim to tell an exit\'s outcome'));
    }
  }
  return told;
}

/** The engine's runner, after it finished a request: an exit's outcome is told at once when its requester's wait was already over. */
export function exitFollowUp(ctx: TellExitDeps): (request: EngineRequest, outcome: HandlerOutcome) => Promise<void> {
  return async (request) => {
    if (request.kind !== 'exit_trade') return;
    await tellUnshownExits(ctx, { ids: [request.id] });
  };
}
