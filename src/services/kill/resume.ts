// Owns leaving a halt (`ctb resume`, `/mode resume`): only an operator, only when the kill is
// fully written (no pending kill file), only after an audit recorded since the halt passed, and
// only once the incident's checklist is done. The audit must have judged by thresholds at least as
// strict as the go-live gate policy in the database (src/services/audit/gate-policy.ts), never by
// whatever the auditing shell's environment said. A lift into paper does not require the checks that
// judge readiness to go live (resume-audit.ts): /mode live runs them again. Resuming clears halted and stays in paper: going
// live again needs the two-approver live switch. Nothing resumes a halt by itself. The lift is
// judged against the row: only the halt resume read, and refused when a kill landed meanwhile. An
// incident left open on a bot that is not halted is closed by resume under the same rules.
import type { AlertSink } from '../../alerts/types.js';
import type { Clock } from '../../clock.js';
import type { Config } from '../../config/env.js';
import type { Db } from '../../db/client.js';
import { liftJudgedHalt, type LiftConflict } from '../../db/queries/kill-incidents.js';
import type { Actor } from '../../domain/actor.js';
import { RECONCILIATION_HALT_ACTOR } from '../../domain/trading-state.js';
import { loadGatePolicy, thresholdRefusal } from '../audit/gate-policy.js';
import { latestAuditRun, type StoredAuditRun } from '../audit/store.js';
import { AppError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { getBotState } from '../bot-state.js';
import { currentIncident } from './incident.js';
import { readPendingKills } from './pending-kill.js';
import { releaseHalt, type KillPorts } from './runtime.js';
import { GO_LIVE_RECORD_CHECKS, judgeAuditForResume, notRequiredNote } from './resume-audit.js';

export interface ResumeResult {
  ok: true;
  /** False when the bot was not halted and resume only closed an incident left open. */
  lifted: boolean;
  haltedSince: Date | null;
  auditRunId: number;
  incidentId: number | null;
  /** Paper after a lift; a bot that was not halted keeps whatever mode it has. */
  mode: 'paper' | 'unchanged';
  /** Failed checks of the audit that judge readiness to go live, which a lift into paper did not require and /mode live will. */
  notRequired: { id: string; value: string }[];
  /** The reply's sentence about them; null when there are none. */
  notRequiredNote: string | null;
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

/** A condition resuming needs that is not met: what is wrong, and what meets it. */
interface Unmet {
  code: string;
  /** The refusal when it is the only one. */
  what: string;
  how: string;
  /** Its lines in the list of several: what is not met → the command that meets it. */
  lines: string[];
}

/** The command that ticks a checklist item at the terminal (close_positions changes the account: --yes). */
function tickCommand(item: string): string {
  return `ctb incident done ${item}${item === 'close_positions' ? ' --yes' : ''}`;
}

export async function resumeAfterHalt(ctx: ResumeDeps, actor: Actor): Promise<ResumeResult> {
  const pending = readPendingKills(ctx.config.DATA_DIR);
  if (pending.length > 0) {
    // A kill aimed at another database is written only there: name it, so the operator brings that one back.
    const targets = [...new Set(pending.flatMap((k) => (k.target !== undefined ? [k.target] : [])))];
    throw new AppError('conflict', 'kill_pending', `A kill is still waiting to be written to the database${targets.length > 0 ? ` (${targets.join(', ')})` : ''}; the bot stays halted.`, {
      hint: 'Bring the database back (ctb self-heal with DATA_DIR and that database writes it), then resume. A database that will never answer again: ctb kill saved lists the saved kills, and ctb kill saved --discard <kill id> --reason "…" drops one.',
    });
  }
  const state = await getBotState(ctx.db);
  const view = await currentIncident({ db: ctx.db, clock: ctx.clock });
  const open = view && view.incident.status === 'open' ? view : null;
  // An incident open on a bot that is not halted (a kill lifted by an older resume, or a database
  // written before kills took halts over) is closed here, under the same audit and checklist rules.
  if (!state.halted && !open) throw new AppError('conflict', 'not_halted', 'The bot is not halted: there is nothing to resume.');
  // Every condition still unmet is named at once, each with what meets it: an operator fixing them
  // one refusal at a time would run resume once per condition.
  const unmet: Unmet[] = [];
  if (state.halted && state.reconciliationBlocked) {
    // Reconciliation's own halt lifts by itself once it passes; a halt a kill took over needs resume again.
    const then = state.haltedBy === RECONCILIATION_HALT_ACTOR ? 'and the reconciliation halt then lifts by itself' : 'then run ctb resume again (the halt is a kill\'s: only resume lifts it)';
    unmet.push({
      code: 'reconciliation_blocked',
      what: 'Reconciliation with Kraken has not passed: the bot stays halted until every order and fill on Kraken is explained.',
      how: `ctb reconcile lists what is unexplained; ctb reconcile adopt|cancel <txid> resolves each, ${then}.`,
      lines: ['Reconciliation with Kraken has not passed (an order or fill on Kraken is unexplained) → ctb reconcile lists them; ctb reconcile adopt|cancel <txid> resolves each'],
    });
  }

  // Halted: the audit must follow the halt. Not halted: it must follow the incident left open.
  const since = state.halted ? state.haltedAt ?? new Date(0) : open!.incident.openedAt;
  const after = state.halted ? 'after the halt' : `after incident ${open!.incident.id} opened`;
  const verb = state.halted ? 'Resuming' : `Closing incident ${open!.incident.id} (the bot is not halted)`;
  const audit = await latestAuditRun(ctx.db);
  if (!audit || audit.at < since) {
    unmet.push({
      code: 'audit_required',
      what: `${verb} needs a passing audit run ${after} (${since.toISOString()}); none has run since.`,
      how: 'Run ctb audit (or /golive audit), fix what it finds, then resume.',
      lines: [`No passing audit run ${after} (${since.toISOString()}): none has run since → ctb audit (or /golive audit), and fix what it finds`],
    });
  } else if (!(state.halted ? judgeAuditForResume(audit) : audit).passed) {
    unmet.push({
      code: 'audit_failed',
      what: `The latest audit ${state.halted ? 'since the halt' : `since incident ${open!.incident.id} opened`} failed (run ${audit.id}: ${audit.summary})${failedText(audit, state.halted)}.`,
      how: 'Fix what it found and run ctb audit again before resuming.',
      lines: [`No passing audit run ${after}: the latest (run ${audit.id}: ${audit.summary}) failed → fix what it found, then ctb audit`],
    });
  } else {
    const refusal = thresholdRefusal(audit, await loadGatePolicy(ctx.db), 'resume');
    if (refusal) unmet.push({ ...refusal, lines: [`${refusal.what} → ${refusal.how}`] });
  }

  const undone = open?.items.filter((i) => !i.doneAt) ?? [];
  if (undone.length > 0) {
    unmet.push({
      code: 'checklist_open',
      what: `Incident ${open!.incident.id} still has undone checklist items: ${undone.map((i) => i.item).join(', ')}.`,
      how: `Do them and tick them (${undone.map((i) => tickCommand(i.item)).join(', ')}, or the buttons in the incident thread).`,
      lines: undone.map((i) => `Checklist item ${i.item} of incident ${open!.incident.id} is not done → ${tickCommand(i.item)} (or its button in the incident thread)`),
    });
  }
  if (unmet.length === 1) throw new AppError('conflict', unmet[0]!.code, unmet[0]!.what, { hint: unmet[0]!.how });
  if (unmet.length > 1) {
    const lines = unmet.flatMap((u) => u.lines);
    throw new AppError('conflict', 'resume_conditions_unmet',
      `${verb} needs ${lines.length} conditions that are not met:\n${lines.map((l, n) => `  ${n + 1}. ${l}`).join('\n')}`,
      { hint: 'Meet each, then resume.' });
  }
  if (!audit) throw new Error('resume: unreachable, a missing audit is an unmet condition above');

  const now = ctx.clock.now();
  // What was judged above is what gets lifted: a kill committed since is refused, never lifted unseen.
  const conflict = await liftJudgedHalt(ctx.db,
    { halted: state.halted, haltedBy: state.haltedBy, haltedAt: state.haltedAt, incidentId: open?.incident.id ?? null }, { at: now, by: actor.id });
  if (conflict) throw conflictError(conflict);
  const incidentId = open?.incident.id ?? null;
  if (!state.halted) {
    ctx.logger.warn({ actor: actor.id, auditRunId: audit.id, incidentId }, 'incident left open on a bot not halted closed');
    await ctx.alerts.raise({ source: 'kill', severity: 'warning', title: `Incident #${incidentId} closed by ${actor.id} (the bot was not halted)`,
      details: { auditRunId: audit.id, incidentId } }).catch((err) => ctx.logger.error({ err }, 'could not raise the resume alert'));
    return { ok: true, lifted: false, haltedSince: null, auditRunId: audit.id, incidentId, mode: 'unchanged', notRequired: [], notRequiredNote: null };
  }
  releaseHalt(ctx);
  const { notRequired } = judgeAuditForResume(audit);
  const notRequiredIds = notRequired.map((c) => c.id);
  ctx.logger.warn({ actor: actor.id, auditRunId: audit.id, ...(notRequiredIds.length > 0 ? { notRequired: notRequiredIds } : {}) }, 'halt lifted: trading resumes in paper');
  await ctx.alerts.raise({ source: 'kill', severity: 'warning', title: `Halt lifted by ${actor.id}: trading resumes in paper`,
    details: { auditRunId: audit.id, incidentId, ...(notRequiredIds.length > 0 ? { notRequiredForPaper: notRequiredIds } : {}) } }).catch((err) => ctx.logger.error({ err }, 'could not raise the resume alert'));
  return { ok: true, lifted: true, haltedSince: state.haltedAt, auditRunId: audit.id, incidentId, mode: 'paper', notRequired, notRequiredNote: notRequiredNote(notRequired) };
}

/** Which of a failed run's checks a resume requires and failed: ": it requires mode.state, …". */
function failedText(audit: StoredAuditRun, halted: boolean): string {
  const failed = audit.results.filter((r) => r.status === 'fail' && (!halted || !GO_LIVE_RECORD_CHECKS.includes(r.id))).map((r) => r.id);
  return failed.length === 0 ? '' : `: ${failed.join(', ')} failed${halted ? ` (a resume in paper does not require ${GO_LIVE_RECORD_CHECKS.join(', ')}; /mode live does)` : ''}`;
}

/** The refusal when the row moved between resume's checks and its lift: nothing was lifted or closed. */
function conflictError(c: LiftConflict): AppError {
  if (c.kind === 'new_incident') {
    return new AppError('conflict', 'kill_during_resume', `A new kill (incident #${c.incidentId}) landed while resuming: nothing was lifted or closed; run resume again.`,
      { hint: `Resume now needs incident #${c.incidentId}'s checklist done and a passing audit after it (ctb incident shows it).` });
  }
  const now = c.halted ? `halted by ${c.haltedBy ?? 'unknown'} since ${c.haltedAt?.toISOString() ?? 'an unrecorded time'}` : 'not halted';
  return new AppError('conflict', 'halt_changed_during_resume', `The halt changed while resuming (the bot is now ${now}): nothing was lifted or closed; run resume again.`);
}
