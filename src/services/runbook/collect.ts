// Owns filling RunbookData from the running installation: the configuration, the persisted bot
// state and the engine lease (the engine's arming, not this process's), the latest audit run, the on-call rotation and the release. Reads only; writes nothing.
import type { Clock } from '../../clock.js';
import { formatDuration } from '../../config/duration.js';
import type { Config } from '../../config/env.js';
import type { Db } from '../../db/client.js';
import { readBotStateRow } from '../../db/queries/bot-state-row.js';
import { auditConfig, configuredThresholds, gatePolicyOf, loadGatePolicy, thresholdStanding, type GatePolicy } from '../audit/gate-policy.js';
import { latestAuditRun, type StoredAuditRun } from '../audit/store.js';
import type { CheckResult } from '../audit/types.js';
import { loadPolicy } from '../../alerts/policy.js';
import { getRotation } from '../oncall/store.js';
import type { OnCallNow } from '../oncall/schedule.js';
import { whoIsOnCall } from '../oncall/who-is-on-call.js';
import { readReleaseInfo } from '../release/version.js';
import { readEngineHolder } from '../engine-lease/holder-view.js';
import { engineMode } from '../../domain/engine-mode.js';
import type { AuditCheckLine, AuditInfo, OnCallInfo, RunbookData, StateInfo } from '../../domain/runbook/data.js';

/** Filling the runbook: the configuration it describes, the database it reads, the clock (who is on call now). */
export interface RunbookDeps {
  config: Config;
  db: Db;
  clock: Clock;
}

const pct = (n: number) => String(n);

export function retentionText(r: Config['BACKUP_RETENTION']): string {
  const parts = [r.count !== undefined ? `newest ${r.count}` : null, r.maxAgeMs !== undefined ? `none older than ${formatDuration(r.maxAgeMs)}` : null];
  return parts.filter(Boolean).join(', ');
}

/** The configuration part of the runbook: pure, so tests can vary one variable and compare texts. */
export function runbookDataFromConfig(config: Config): Omit<RunbookData, 'generatedAt' | 'release' | 'state' | 'oncall' | 'audit'> {
  return {
    operators: config.SLACK_OPERATORS,
    approvers: config.SLACK_APPROVERS,
    opsChannel: config.SLACK_OPS_CHANNEL ?? null,
    alertsChannel: config.SLACK_ALERTS_CHANNEL ?? null,
    approvalEmoji: config.APPROVAL_EMOJI,
    rejectionEmoji: config.REJECTION_EMOJI,
    modeChangeTtl: formatDuration(config.MODE_CHANGE_TTL),
    escalationAckSla: formatDuration(config.ESCALATION_ACK_SLA),
    escalationMaxRounds: String(config.ESCALATION_MAX_ROUNDS),
    escalationSteps: ['oncall', 'next', 'approvers'],
    escalationSource: 'env',
    risk: {
      maxDrawdownPct: pct(config.RISK_MAX_DRAWDOWN_PCT),
      dailyLossPct: pct(config.RISK_DAILY_LOSS_PCT),
      hardDrawdownPct: pct(config.RISK_HARD_DRAWDOWN_PCT),
      appetiteMaxDrawdownPct: pct(config.RISK_APPETITE_MAX_DRAWDOWN_PCT),
      capitalReservePct: pct(config.CAPITAL_RESERVE_PCT),
    },
    golive: {
      minPaperTrades: String(config.GOLIVE_MIN_PAPER_TRADES),
      minRoiPct: String(config.GOLIVE_MIN_ROI_PCT),
      alertWindow: formatDuration(config.GOLIVE_ALERT_WINDOW),
      recordedBy: null,
    },
    port: String(config.PORT),
    logDir: config.LOG_DIR,
    backupDir: config.BACKUP_DIR,
    backupRetention: retentionText(config.BACKUP_RETENTION),
    logCheckWindow: formatDuration(config.LOG_CHECK_WINDOW),
  };
}

/** Checks of a stored audit run that did not pass: failures first, then warnings. */
export function failingChecks(results: Array<Pick<CheckResult, 'title' | 'status' | 'value' | 'fix'>>): AuditCheckLine[] {
  return results
    .filter((r) => r.status !== 'pass')
    .map((r) => ({ name: r.title, status: r.status, detail: r.fix ? `${r.value} — fix: ${r.fix}` : r.value }))
    .sort((a, b) => Number(b.status === 'fail') - Number(a.status === 'fail'));
}

/** `policy`: the gate policy stored now, which the run is held to (none: the built-in defaults). */
export function auditInfo(run: StoredAuditRun | null, policy: GatePolicy = gatePolicyOf(null)): AuditInfo {
  if (!run) return { status: 'never_run' };
  return {
    status: 'ran',
    at: run.at.toISOString(),
    actor: run.actor,
    passed: run.passed,
    summary: run.summary,
    failing: failingChecks(Array.isArray(run.results) ? run.results : []),
    thresholdRefusal: thresholdStanding(run, policy),
  };
}

/** The engine's state from the lease and bot_state (any process reads the same); this process's arming apart. */
async function readState(ctx: RunbookDeps): Promise<StateInfo> {
  const [row, engine] = await Promise.all([readBotStateRow(ctx.db), readEngineHolder(ctx)]);
  const stored = { mode: row?.mode ?? 'paper', halted: row?.halted ?? false };
  return { engine, tradingMode: engineMode(stored, engine), ...stored, haltedReason: row?.haltedReason ?? null, armedHere: ctx.config.IS_LIVE };
}

/** Pure: the runbook's view of who is on call now and next. */
export function onCallInfo(rotation: unknown, now: OnCallNow): OnCallInfo {
  if (!rotation && now.via === 'nobody') return { status: 'none' };
  const until = now.override?.endsAt ?? now.shift?.endsAt ?? null;
  return {
    status: 'configured',
    now: now.primary ? { user: now.primary, ...(until ? { at: until.toISOString() } : {}) } : null,
    // The next rung of the ladder; with a plain rotation that is also whose shift starts next.
    next: now.next ? { user: now.next, ...(now.via === 'rotation' && now.shift ? { at: now.shift.endsAt.toISOString() } : {}) } : null,
  };
}

async function readOnCall(ctx: RunbookDeps): Promise<OnCallInfo> {
  const [rotation, current] = await Promise.all([getRotation(ctx.db), whoIsOnCall(ctx.db)]);
  return onCallInfo(rotation, current);
}

/** The critical alerts' escalation policy in force (stored, or the env defaults). */
async function readEscalation(ctx: RunbookDeps): Promise<Pick<RunbookData, 'escalationAckSla' | 'escalationMaxRounds' | 'escalationSteps' | 'escalationSource'>> {
  const policy = await loadPolicy(ctx.db, 'critical', ctx.config);
  return {
    escalationAckSla: formatDuration(policy.ackSlaMs),
    escalationMaxRounds: String(policy.maxRounds),
    escalationSteps: [...policy.steps],
    escalationSource: policy.stored ? 'policy' : 'env',
  };
}

/** The go-live thresholds audits are held to: the stored gate policy, or this process's settings while none is stored. */
function readGolive(ctx: RunbookDeps, policy: GatePolicy): RunbookData['golive'] {
  const used = policy.source === 'engine' ? policy.thresholds : configuredThresholds(ctx.config);
  return { minPaperTrades: String(used.minPaperTrades), minRoiPct: used.minRoiPct, alertWindow: formatDuration(used.alertWindowMs), recordedBy: policy.recordedBy };
}

export async function collectRunbookData(ctx: RunbookDeps): Promise<RunbookData> {
  const [state, latest, oncall, escalation, policy, release] = await Promise.all([
    readState(ctx),
    latestAuditRun(ctx.db),
    readOnCall(ctx),
    readEscalation(ctx),
    loadGatePolicy(ctx.db),
    readReleaseInfo({ buildCommit: ctx.config.BUILD_COMMIT }),
  ]);
  return {
    generatedAt: ctx.clock.now().toISOString(),
    release: release.label,
    state,
    oncall,
    audit: auditInfo(latest, policy),
    // The audit judges by the gate policy's settings (LOG_CHECK_WINDOW, the drawdown guard's RISK_*, …),
    // not this process's: show those (src/services/audit/gate-policy.ts).
    ...runbookDataFromConfig(auditConfig(ctx.config, policy.source === 'engine' ? policy.thresholds : configuredThresholds(ctx.config))),
    ...escalation,
    golive: readGolive(ctx, policy),
  };
}
