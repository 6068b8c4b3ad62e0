// Owns leaving a halt (`ctb resume`, `/mode resume`): only an operator, only when the kill is
// fully written (no pending kill file), only after an audit recorded since the halt passed, and
// only once the incident's checklist is done. Resuming clears halted and stays in paper: going
// live again needs the two-approver live switch. Nothing resumes a halt by itself.
import type { AlertSink } from '../../alerts/types.js';
import type { Clock } from '../../clock.js';
import type { Config } from '../../config/env.js';
import type { Db } from '../../db/client.js';
import { closeIncident, liftHalt } from '../../db/queries/kill-incidents.js';
import type { Actor } from '../../domain/actor.js';
import { latestAuditRun } from '../audit/store.js';
import { AppError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { getBotState } from '../bot-state.js';
import { currentIncident } from './incident.js';
import { readPendingKills } from './pending-kill.js';
import { releaseHalt, type KillPorts } from './runtime.js';

export interface ResumeResult {
  ok: true;
  haltedSince: Date | null;
  auditRunId: number;
  incidentId: number | null;
  mode: 'paper';
}

/** Lifting a halt: the saved kills in DATA_DIR, bot_state and the incident, this process's latch, the log and the alert. */
export interface ResumeDeps {
  db: Db;
  clock: Clock;
  config: Pick<Config, 'DATA_DIR'>;
  logger: Logger;
  alerts: Pick<AlertSink, 'raise'>;
  kill: KillPorts;
}

export async function resumeAfterHalt(ctx: ResumeDeps, actor: Actor): Promise<ResumeResult> {
  if (readPendingKills(ctx.config.DATA_DIR).length > 0) {
    throw new AppError('conflict', 'kill_pending', 'A kill is still waiting to be written to the database; the bot stays halted.', {
      hint: 'Bring the database back (ctb self-heal writes it), then resume.',
    });
  }
  const state = await getBotState(ctx.db);
  if (!state.halted) throw new AppError('conflict', 'not_halted', 'The bot is not halted: there is nothing to resume.');
  if (state.reconciliationBlocked) {
    throw new AppError('conflict', 'reconciliation_blocked', 'Reconciliation with Kraken has not passed: the bot stays halted until every order and fill on Kraken is explained.', {
      hint: 'ctb reconcile lists what is unexplained; ctb reconcile adopt|cancel <txid> resolves each, and the reconciliation halt then lifts by itself.',
    });
  }

  const since = state.haltedAt ?? new Date(0);
  const audit = await latestAuditRun(ctx.db);
  if (!audit || audit.at < since) {
    throw new AppError('conflict', 'audit_required', `Resuming needs a passing audit run after the halt (${since.toISOString()}); none has run since.`, {
      hint: 'Run ctb audit (or /golive audit), fix what it finds, then resume.',
    });
  }
  if (!audit.passed) {
    throw new AppError('conflict', 'audit_failed', `The latest audit since the halt failed (run ${audit.id}: ${audit.summary}).`, {
      hint: 'Fix what it found and run ctb audit again before resuming.',
    });
  }

  const view = await currentIncident({ db: ctx.db, clock: ctx.clock });
  const open = view && view.incident.status === 'open' ? view : null;
  const undone = open?.items.filter((i) => !i.doneAt) ?? [];
  if (undone.length > 0) {
    throw new AppError('conflict', 'checklist_open', `Incident ${open!.incident.id} still has undone checklist items: ${undone.map((i) => i.item).join(', ')}.`, {
      hint: 'Do them and tick them (ctb incident done <item>, or the buttons in the incident thread).',
    });
  }

  const now = ctx.clock.now();
  await ctx.db.transaction(async (tx) => {
    await liftHalt(tx, now);
    if (open) await closeIncident(tx, open.incident.id, { at: now, by: actor.id });
  });
  releaseHalt(ctx);
  ctx.logger.warn({ actor: actor.id, auditRunId: audit.id }, 'halt lifted: trading resumes in paper');
  await ctx.alerts.raise({ source: 'kill', severity: 'warning', title: `Halt lifted by ${actor.id}: trading resumes in paper`,
    details: { auditRunId: audit.id, incidentId: open?.incident.id ?? null } }).catch((err) => ctx.logger.error({ err }, 'could not raise the resume alert'));
  return { ok: true, haltedSince: state.haltedAt, auditRunId: audit.id, incidentId: open?.incident.id ?? null, mode: 'paper' };
}
