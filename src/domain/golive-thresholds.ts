// Owns the words of the go-live thresholds an audit judged by: their shape and what an audit report
// says about them. Pure text (the terminal and Slack renderers use it); the policy itself, and how
// each threshold reads, is src/services/audit/gate-policy.ts.
import type { ReleaseInfo } from './release.js';

/**
 * The go-live thresholds: GOLIVE_MIN_PAPER_TRADES, GOLIVE_MIN_ROI_PCT (exact, as text), GOLIVE_ALERT_WINDOW;
 * and the other settings that decide whether an audit passes. Those are absent from runs stored
 * before they were recorded, which the gate therefore refuses.
 */
export interface GateThresholds {
  minPaperTrades: number;
  minRoiPct: string;
  alertWindowMs: number;
  /** Settings the audit checks judge by (AuditSettings); absent on older runs. */
  roiTolerancePct?: string;
  logCheckWindowMs?: number;
  paperStartingBalance?: string;
  legacyCutoff?: string | null;
  riskAppetitePct?: string;
  riskMaxDrawdownPct?: string;
  riskDailyLossPct?: string;
  riskHardDrawdownPct?: string;
}

/**
 * The settings besides the go-live thresholds that decide whether an audit passes: ROI_TOLERANCE_PCT
 * (how far ledger ROI may stray, in points; larger passes more), LOG_CHECK_WINDOW (how far back the
 * log check looks; shorter passes more), PAPER_STARTING_BALANCE (what paper ROI is measured against)
 * and RECONCILE_LEGACY_CUTOFF (trades before it only warn; null: the ledger's first live fill);
 * RISK_APPETITE_MAX_DRAWDOWN_PCT (the agreed appetite the drawdown guard's limits must stay inside;
 * larger passes more) and those limits themselves, the engine's RISK_MAX_DRAWDOWN_PCT,
 * RISK_DAILY_LOSS_PCT and RISK_HARD_DRAWDOWN_PCT (the audit judges the engine's, not a shell's).
 */
export interface AuditSettings {
  roiTolerancePct: string;
  logCheckWindowMs: number;
  paperStartingBalance: string;
  legacyCutoff: string | null;
  riskAppetitePct: string;
  riskMaxDrawdownPct: string;
  riskDailyLossPct: string;
  riskHardDrawdownPct: string;
}

/** A threshold this process's environment sets differently from the stored policy. */
export interface EnvOverride {
  env: string;
  /** As set here, and as the policy has it (e.g. "1m" and "7d"). */
  value: string;
  policy: string;
  /** `different`: a setting that must match the policy (neither looser nor stricter), e.g. PAPER_STARTING_BALANCE. */
  relation?: 'looser' | 'stricter' | 'different';
}

/** What an audit judges by, and why. */
export interface AuditThresholds {
  used: GateThresholds;
  /** `used` as an operator reads it: "≥ 50 paper trades, paper ROI > 0%, no critical alert in 7d". */
  described: string;
  /** The other settings of `used` as an operator reads them: "ROI_TOLERANCE_PCT 0.5 pp, LOG_CHECK_WINDOW 24h, …". */
  settings?: string;
  /** `engine`: the stored policy (with any stricter value of this process's); `process`: no policy stored, this process's settings. */
  source: 'engine' | 'process';
  recordedBy: string | null;
  recordedAt: string | null;
  /** Set looser here than the policy: not used. */
  envIgnored: EnvOverride[];
  /** Set stricter here than the policy: used. */
  envStricter: EnvOverride[];
}

/** The lines an audit report shows about its thresholds (the terminal and Slack). */
export function auditThresholdLines(a: AuditThresholds): string[] {
  const lines = [a.source === 'engine'
    ? `Go-live thresholds: ${a.described} — the gate policy recorded by the engine's process ${a.recordedBy} at ${a.recordedAt}${a.envStricter.length ? ', with this environment\'s stricter values' : ''}.`
    : `Go-live thresholds: ${a.described} — this process's settings: no engine has recorded a gate policy in this database yet.`];
  if (a.settings) lines.push(`Audit settings judged by: ${a.settings}.`);
  for (const o of a.envIgnored) {
    const how = o.relation === 'different' ? 'differs from' : 'is looser than';
    lines.push(`${o.env}=${o.value} in this environment ${how} the gate policy (${o.policy}) and was ignored: the policy changes only in the engine's environment, with a restart of the engine.`);
  }
  for (const o of a.envStricter) lines.push(`${o.env}=${o.value} in this environment is stricter than the gate policy (${o.policy}) and was used.`);
  return lines;
}


/** What the gate (resume, /mode live) says of a stored run's thresholds under the policy stored now, when it refuses them. */
export interface ThresholdStanding {
  code: 'audit_thresholds_missing' | 'audit_thresholds_looser' | 'policy_incomplete';
  /** Each looser threshold against the policy (for `policy_incomplete`, what the policy lacks); null when the run recorded none. */
  differences: string | null;
}

/**
 * A stored run's verdict as the gate reads it (/golive status, ctb mode status): "failed", "passed",
 * or passed but not accepted for going live or resuming, and why.
 */
export function gateVerdictText(v: { passed: boolean; thresholdRefusal: ThresholdStanding | null }): string {
  if (!v.passed) return 'failed';
  if (!v.thresholdRefusal) return 'passed';
  if (v.thresholdRefusal.code === 'policy_incomplete') return `passed, but ${v.thresholdRefusal.differences}: not accepted for going live / resume`;
  const why = v.thresholdRefusal.differences === null
    ? 'passed, but recorded no go-live thresholds'
    : `passed under looser thresholds than the policy (${v.thresholdRefusal.differences})`;
  return `${why}: not accepted for going live / resume — re-run the audit`;
}

/**
 * What the engine's process recorded of its own pre-trade limits and strategies when it took the lease
 * (golive_policy.engine_limits): the audit's risk checks judge these, not the auditing shell's
 * RISK_* or STRATEGIES_FILE, which may differ from what the engine runs.
 */
export interface EngineLimits {
  maxOrderNotional: number;
  priceBandPct: number;
  maxOpenOrders: { perPair: number; total: number };
  maxOrdersPerMinute: number;
  selfTradePrevention: string;
  /** The strategies file the engine loaded, as an absolute path, and the sha256 of its bytes then. */
  strategiesFile: string;
  strategiesSha256: string;
  /**
   * Who can approve a live switch (SLACK_APPROVERS) and where its alerts go (Slack channel, email
   * recipients when SMTP is set; null: none): what the approvers and alerting checks judge. Absent on
   * rows recorded before they were. (The log checks judge the engine's published scan, golive_policy.log_scan.)
   */
  slackApprovers?: string[];
  alertChannels?: { slack: string | null; email: string[] | null };
  /** The pairs the engine trades (its TRADING_PAIRS): what the trading-pairs check judges. Absent on rows recorded before it was. */
  tradingPairs?: string[];
  /**
   * The release the engine's process runs (its build's tag, commit and whether it was built from a
   * clean tree), as it read it when it took the lease: what the release check judges. Absent on rows
   * recorded before it was.
   */
  release?: ReleaseInfo;
}
