// Owns the kill: (1) cancel every open order on every reachable venue — first, before any
// database access; (2) confirm none is left; (3) latch this process, pause the trading jobs,
// persist halted + paper and open the incident with its checklist (or, when the database does
// not answer in time, save the kill to DATA_DIR and write it when the database returns);
// (4) alert. The engine is not involved: a stuck engine loop cannot delay a kill.
import { randomUUID } from 'node:crypto';
import type { Actor, AppContext } from '../../app/context.js';
import type { IncidentChecklistItem } from '../../db/schema/index.js';
import { cancelEverywhere, type CancelReport } from './cancel-everywhere.js';
import { describeError, withDeadline } from './deadline.js';
import { addPendingKill, pendingKillPath } from './pending-kill.js';
import { checklistOf, persistKill } from './persist-kill.js';
import { killRuntime, latchHalt, type FlattenOutcome } from './runtime.js';
import { markChecklistItem } from './incident.js';

export interface KillRequest {
  actor: Actor;
  reason: string;
  trigger: 'manual' | 'auto';
  flatten?: boolean;
}

export interface KillResult {
  ok: boolean;
  killId: string;
  /** A kill was already in force (its incident still open): this one re-cancelled and joined it. */
  alreadyKilled: boolean;
  cancel: CancelReport;
  /** written: halted is in the database; pending: saved to pendingFile, written when the database returns. */
  state: 'written' | 'pending';
  stateError?: string;
  pendingFile?: string;
  incidentId: number | null;
  checklist: Array<Pick<IncidentChecklistItem, 'item' | 'label' | 'doneAt' | 'doneBy'>>;
  flatten: FlattenOutcome | null;
}

/** A Slack retry carries the same request id: it maps to the same kill. */
export function killIdFor(actor: Actor): string {
  return actor.requestId ? `req:${actor.source}:${actor.requestId}` : randomUUID();
}

export async function executeKill(ctx: AppContext, request: KillRequest): Promise<KillResult> {
  const at = ctx.clock.now();
  const killId = killIdFor(request.actor);
  const reason = request.reason.trim() || 'no reason given';
  // (1) The exchange calls leave now, before anything else is awaited.
  const cancelling = cancelEverywhere({ exchanges: ctx.exchanges, logger: ctx.logger, attempts: ctx.config.KILL_CONFIRM_ATTEMPTS, databaseTimeoutMs: ctx.config.KILL_DB_TIMEOUT });
  latchHalt(ctx, reason);
  let cancel = await cancelling;
  ctx.logger.warn({ killId, actor: request.actor.id, cancel }, 'kill: exchange orders cancelled');

  // An engine tick that was sending an order when the kill began holds the order lock: cancel
  // once more inside it (bounded: a stuck engine must not hold the kill).
  const lock = killRuntime(ctx).hooks.orderLock;
  if (lock) {
    try {
      cancel = await withDeadline(
        lock(() => cancelEverywhere({ exchanges: ctx.exchanges, logger: ctx.logger, attempts: ctx.config.KILL_CONFIRM_ATTEMPTS, databaseTimeoutMs: ctx.config.KILL_DB_TIMEOUT })),
        ctx.config.KILL_DB_TIMEOUT, 'the engine order lock');
    } catch (err) {
      ctx.logger.warn({ err }, 'kill: could not take the engine order lock; the first cancel stands');
    }
  }

  const record = { killId, at, actor: request.actor.id, trigger: request.trigger, reason, cancelReport: { ...cancel } };
  const result: KillResult = {
    ok: cancel.allConfirmed, killId, alreadyKilled: false, cancel, state: 'written', incidentId: null, checklist: [], flatten: null,
  };
  try {
    const outcome = await withDeadline(persistKill(ctx.db, record), ctx.config.KILL_DB_TIMEOUT, 'the database');
    result.alreadyKilled = outcome.alreadyKilled;
    result.incidentId = outcome.incident.id;
    const items = await withDeadline(checklistOf(ctx.db, outcome.incident.id), ctx.config.KILL_DB_TIMEOUT, 'the database');
    result.checklist = items.map(({ item, label, doneAt, doneBy }) => ({ item, label, doneAt, doneBy }));
    const notify = killRuntime(ctx).hooks.onIncidentOpened;
    if (!outcome.alreadyKilled && notify) {
      notify(outcome.incident, items).catch((err) => ctx.logger.error({ err }, 'kill: could not post the incident thread'));
    }
  } catch (err) {
    result.state = 'pending';
    result.stateError = describeError(err);
    result.pendingFile = pendingKillPath(ctx.config.DATA_DIR);
    addPendingKill(ctx.config.DATA_DIR, { ...record, at: at.toISOString(), actorSource: request.actor.source });
    ctx.logger.error({ err, killId, file: result.pendingFile }, 'kill: database unreachable; halt saved to the pending-kill file');
  }

  if (!result.alreadyKilled || !cancel.allConfirmed) await raiseKillAlert(ctx, request, result);
  if (request.flatten) result.flatten = await flatten(ctx, request.actor, result);
  if (request.flatten && !result.flatten?.ok) result.ok = false;
  return result;
}

async function raiseKillAlert(ctx: AppContext, request: KillRequest, result: KillResult): Promise<void> {
  const survivors = result.cancel.venues.flatMap((v) => v.survivors.map((s) => ({ venue: v.venue, ...s })));
  try {
    await withDeadline(
      ctx.alerts.raise({
        source: 'kill',
        severity: 'critical',
        title: survivors.length > 0 || !result.cancel.allConfirmed
          ? 'Kill switch: trading halted, but open orders could not be confirmed cancelled'
          : 'Kill switch: trading halted, every open order cancelled',
        fingerprint: `kill:${result.incidentId ?? result.killId}`,
        details: { killId: result.killId, by: request.actor.id, reason: request.reason, trigger: request.trigger, state: result.state,
          incidentId: result.incidentId, survivors },
      }),
      ctx.config.KILL_DB_TIMEOUT, 'the alert pipeline');
  } catch (err) {
    ctx.logger.error({ err }, 'kill: could not raise the kill alert');
  }
}

async function flatten(ctx: AppContext, actor: Actor, result: KillResult): Promise<FlattenOutcome> {
  const hook = killRuntime(ctx).hooks.flatten;
  if (!hook) {
    return { ok: false, summary: 'Closing positions is not available in this process (no engine flatten); close them by hand and tick the checklist.' };
  }
  try {
    const outcome = await hook(ctx, actor);
    if (outcome.ok && result.incidentId !== null) {
      await markChecklistItem(ctx, { incidentId: result.incidentId, item: 'close_positions', actor, outcome: { summary: outcome.summary } })
        .catch((err) => ctx.logger.error({ err }, 'kill: could not tick close_positions'));
    }
    return outcome;
  } catch (err) {
    return { ok: false, summary: `Closing positions failed: ${describeError(err)}` };
  }
}
