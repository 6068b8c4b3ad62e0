// Owns the facts a runbook is filled in with. Everything the runbook text says about this
// installation comes from one RunbookData object, so the text is a pure function of it: the CLI
// fills it from the running configuration and database; docs/*.md are the same text rendered
// from placeholderRunbookData().
import type { ThresholdStanding } from '../golive-thresholds.js';
import type { EngineHolderView } from '../engine-holder.js';
import type { EngineMode } from '../engine-mode.js';

export type Placeholder = { placeholder: string };

export interface OnCallPerson {
  user: string;
  /** When this person's turn ends (now) or starts (next), ISO. */
  at?: string;
}

export type OnCallInfo =
  | { status: 'configured'; now: OnCallPerson | null; next: OnCallPerson | null }
  | { status: 'none' }
  | Placeholder;

export interface AuditCheckLine {
  name: string;
  status: string;
  detail: string;
}

export type AuditInfo =
  | { status: 'never_run' }
  | {
      status: 'ran'; at: string; actor: string; passed: boolean; summary: string; failing: AuditCheckLine[];
      /** Why resume and /mode live would refuse the run under the gate policy stored now; null when they accept it. */
      thresholdRefusal: ThresholdStanding | null;
    }
  | Placeholder;

/**
 * The system's state as the database holds it — the engine that trades (the engine lease: where it runs,
 * armed or not), the mode it trades in, the persisted mode, halted — and apart from it, whether the process
 * that filled this runbook is armed itself (a shell or web replica: it places no orders unless it runs the engine).
 */
export type StateInfo =
  | {
      engine: EngineHolderView;
      /**
       * What the engine trades in (engine-mode.ts): live only when it runs armed, the database says live and
       * nothing halts it; unknown when its lease is stale and that held for its holder (it may resume LIVE trading).
       */
      tradingMode: EngineMode;
      /** The persisted (requested) mode. */
      mode: 'paper' | 'live';
      halted: boolean;
      haltedReason: string | null;
      /** This process runs with IS_LIVE=true. */
      armedHere: boolean;
    }
  | Placeholder;

export interface RunbookData {
  generatedAt: string;
  release: string;
  state: StateInfo;
  operators: string[];
  approvers: string[];
  opsChannel: string | null;
  alertsChannel: string | null;
  approvalEmoji: string;
  rejectionEmoji: string;
  modeChangeTtl: string;
  escalationAckSla: string;
  escalationMaxRounds: string;
  /** The critical alerts' ladder, rung by rung: `oncall`, `next`, `approvers`. */
  escalationSteps: string[];
  /** Where the SLA and rounds come from: the env variables, or a stored escalation policy. */
  escalationSource: 'env' | 'policy';
  risk: { maxDrawdownPct: string; dailyLossPct: string; hardDrawdownPct: string; appetiteMaxDrawdownPct: string; capitalReservePct: string };
  /** The go-live thresholds audits are held to: the gate policy the engine recorded (`recordedBy`), or this process's settings while none is stored. */
  golive: { minPaperTrades: string; minRoiPct: string; alertWindow: string; recordedBy: string | null };
  oncall: OnCallInfo;
  audit: AuditInfo;
  port: string;
  logDir: string;
  backupDir: string;
  backupRetention: string;
  logCheckWindow: string;
}

export function isPlaceholder(v: unknown): v is Placeholder {
  return typeof v === 'object' && v !== null && 'placeholder' in v;
}

/** The data docs/*.md are rendered from: each value names where the real one comes from. */
export function placeholderRunbookData(): RunbookData {
  return {
    generatedAt: '(time of reading)',
    release: '(`ctb version`)',
    state: { placeholder: '`ctb runbook` shows where the engine runs and whether it is armed, the mode it trades in, the persisted mode and whether the bot is halted.' },
    operators: ['<SLACK_OPERATORS>'],
    approvers: ['<SLACK_APPROVERS>'],
    opsChannel: '<SLACK_OPS_CHANNEL>',
    alertsChannel: '<SLACK_ALERTS_CHANNEL>',
    approvalEmoji: '<APPROVAL_EMOJI>',
    rejectionEmoji: '<REJECTION_EMOJI>',
    modeChangeTtl: '<MODE_CHANGE_TTL>',
    escalationAckSla: '<ESCALATION_ACK_SLA>',
    escalationMaxRounds: '<ESCALATION_MAX_ROUNDS>',
    escalationSteps: ['oncall', 'next', 'approvers'],
    escalationSource: 'env',
    risk: {
      maxDrawdownPct: '<RISK_MAX_DRAWDOWN_PCT>',
      dailyLossPct: '<RISK_DAILY_LOSS_PCT>',
      hardDrawdownPct: '<RISK_HARD_DRAWDOWN_PCT>',
      appetiteMaxDrawdownPct: '<RISK_APPETITE_MAX_DRAWDOWN_PCT>',
      capitalReservePct: '<CAPITAL_RESERVE_PCT>',
    },
    golive: { minPaperTrades: '<GOLIVE_MIN_PAPER_TRADES>', minRoiPct: '<GOLIVE_MIN_ROI_PCT>', alertWindow: '<GOLIVE_ALERT_WINDOW>', recordedBy: null },
    oncall: { placeholder: '`ctb runbook` names the person on call now and next (`ctb oncall show`).' },
    audit: { placeholder: '`ctb runbook` lists the checks that failed in the latest audit run (`ctb audit`).' },
    port: '<PORT>',
    logDir: '<LOG_DIR>',
    backupDir: '<BACKUP_DIR>',
    backupRetention: '<BACKUP_RETENTION>',
    logCheckWindow: '<LOG_CHECK_WINDOW>',
  };
}
