// Owns the go-live gate policy: the settings that decide what counts as a passing audit — the go-live
// thresholds (GOLIVE_MIN_PAPER_TRADES, GOLIVE_MIN_ROI_PCT, GOLIVE_ALERT_WINDOW) and the audit settings
// a check can pass by (ROI_TOLERANCE_PCT, LOG_CHECK_WINDOW, PAPER_STARTING_BALANCE,
// RECONCILE_LEGACY_CUTOFF, and the drawdown guard's RISK_APPETITE_MAX_DRAWDOWN_PCT with the engine's
// RISK_MAX_DRAWDOWN_PCT, RISK_DAILY_LOSS_PCT, RISK_HARD_DRAWDOWN_PCT). They are a safety fact, so
// they have one home, the database: the process holding the engine lease records the ones it runs
// with when it takes the lease. An audit judges by the stored policy — a value this process's
// environment sets looser (or, for a setting that must match, different) is ignored and said so, a
// stricter one is used — and records what it used.
// Resume and the live switch refuse an audit whose recorded settings are looser than the policy,
// or that recorded none. Until an engine has recorded a policy, the gate holds audits to the
// built-in defaults, and an audit judges by this process's settings.
// A row recorded by an engine older than the audit settings or the engine limits leaves them unknown:
// the checks judging them fail and the gate refuses until that engine restarts and records them.
// With them it records its pre-trade limits (RISK_PRICE_BAND_PCT, RISK_MAX_ORDERS_PER_MINUTE,
// RISK_MAX_OPEN_ORDERS, RISK_MAX_ORDER_NOTIONAL, RISK_SELF_TRADE_PREVENTION) and the strategies file it
// loaded (path, sha256): the risk checks judge those, never the auditing shell's (sources/engine-limits.ts);
// and the release it runs, which the release check judges (checks/backups-release.ts).
import { slackAlertsChannel } from '../../alerts/sink.js';
import { formatDuration, parseDuration } from '../../config/duration.js';
import { GOLIVE_DEFAULTS, type Config, type GatePolicyEnv } from '../../config/env.js';
import type { Db } from '../../db/client.js';
import { golivePolicyRow, upsertGolivePolicy } from '../../db/queries/golive-policy.js';
import { loadStrategiesFile } from '../../engine/strategies/config.js';
import type { GolivePolicy } from '../../db/schema/index.js';
import { emailConfigured, emailRecipients } from '../../email/smtp.js';
import { Decimal } from '../../money.js';
import { readReleaseInfo, type ReleaseInfo } from '../release/version.js';
import type { AuditSettings, AuditThresholds, EngineLimits, EnvOverride, GateThresholds, ThresholdStanding } from '../../domain/golive-thresholds.js';

export { auditThresholdLines, type AuditThresholds, type GateThresholds } from '../../domain/golive-thresholds.js';

type Name = keyof GateThresholds;
type Value = GateThresholds[Name];

/**
 * How each setting is held to the policy. `min`: more is stricter; `max`: less is stricter; `same`:
 * neither (what paper ROI is measured against, where "legacy" trades end), so only the policy's own
 * value is accepted.
 */
interface Spec {
  env: GatePolicyEnv;
  order: 'min' | 'max' | 'same';
  text(v: NonNullable<Value> | null): string;
}

const decimalOrder = (a: Value, b: Value) => new Decimal(a as string).cmp(b as string);

/** Each setting, in the order they are shown. */
const SPECS: Record<Name, Spec> = {
  minPaperTrades: { env: 'GOLIVE_MIN_PAPER_TRADES', order: 'min', text: (v) => String(v) },
  minRoiPct: { env: 'GOLIVE_MIN_ROI_PCT', order: 'min', text: (v) => `${v}%` },
  alertWindowMs: { env: 'GOLIVE_ALERT_WINDOW', order: 'min', text: (v) => formatDuration(v as number) },
  roiTolerancePct: { env: 'ROI_TOLERANCE_PCT', order: 'max', text: (v) => `${v} pp` },
  logCheckWindowMs: { env: 'LOG_CHECK_WINDOW', order: 'min', text: (v) => formatDuration(v as number) },
  paperStartingBalance: { env: 'PAPER_STARTING_BALANCE', order: 'same', text: (v) => String(v) },
  legacyCutoff: { env: 'RECONCILE_LEGACY_CUTOFF', order: 'same', text: (v) => (v === null ? 'unset (the first live ledger fill)' : String(v)) },
  riskAppetitePct: { env: 'RISK_APPETITE_MAX_DRAWDOWN_PCT', order: 'max', text: (v) => `${v}%` },
  riskMaxDrawdownPct: { env: 'RISK_MAX_DRAWDOWN_PCT', order: 'same', text: (v) => `${v}%` },
  riskDailyLossPct: { env: 'RISK_DAILY_LOSS_PCT', order: 'same', text: (v) => `${v}%` },
  riskHardDrawdownPct: { env: 'RISK_HARD_DRAWDOWN_PCT', order: 'same', text: (v) => `${v}%` },
};

/** Settings compared as exact decimals (the others are whole numbers, or text that must match). */
const DECIMAL: ReadonlySet<Name> = new Set<Name>(['minRoiPct', 'roiTolerancePct', 'paperStartingBalance', 'riskAppetitePct', 'riskMaxDrawdownPct', 'riskDailyLossPct', 'riskHardDrawdownPct']);

/** Each threshold's variable, in the order they are shown. */
export const THRESHOLD_ENV = Object.fromEntries(Object.entries(SPECS).map(([n, s]) => [n, s.env])) as Record<Name, GatePolicyEnv>;

const NAMES = Object.keys(SPECS) as Name[];
const SETTING_NAMES: Name[] = ['roiTolerancePct', 'logCheckWindowMs', 'paperStartingBalance', 'legacyCutoff', 'riskAppetitePct', 'riskMaxDrawdownPct', 'riskDailyLossPct', 'riskHardDrawdownPct'];

export function thresholdText(name: Name, t: GateThresholds): string {
  return t[name] === undefined ? 'not recorded' : SPECS[name].text(t[name]);
}

/** "≥ 50 paper trades, paper ROI > 0%, no critical alert in 7d". */
export function describeThresholds(t: GateThresholds): string {
  return `≥ ${t.minPaperTrades} paper trades, paper ROI > ${t.minRoiPct}%, no critical alert in ${formatDuration(t.alertWindowMs)}`;
}

/** "ROI_TOLERANCE_PCT 0.5 pp, LOG_CHECK_WINDOW 24h, PAPER_STARTING_BALANCE 10000, RECONCILE_LEGACY_CUTOFF unset (…)". */
export function describeSettings(t: GateThresholds): string {
  return SETTING_NAMES.map((n) => `${SPECS[n].env} ${thresholdText(n, t)}`).join(', ');
}

export interface GatePolicy {
  thresholds: Required<GateThresholds>;
  /** `engine`: recorded by the engine's process; `default`: none recorded yet, the built-in defaults. */
  source: 'engine' | 'default';
  recordedBy: string | null;
  recordedAt: Date | null;
  /** The engine's pre-trade limits and strategies file, as it recorded them; null when none recorded them yet. */
  engineLimits?: EngineLimits | null;
  /**
   * What a stored row lacks because an engine older than them recorded it (before migrations 0022/0023):
   * unknown until the engine restarts, never the built-in defaults nor this process's values.
   */
  missing?: PolicyPart[];
}

export type PolicyPart = 'audit_settings' | 'engine_limits';

const PART_TEXT: Record<PolicyPart, string> = {
  audit_settings: 'its audit settings (ROI_TOLERANCE_PCT, LOG_CHECK_WINDOW, PAPER_STARTING_BALANCE, RECONCILE_LEGACY_CUTOFF, RISK_APPETITE_MAX_DRAWDOWN_PCT, RISK_MAX_DRAWDOWN_PCT, RISK_DAILY_LOSS_PCT, RISK_HARD_DRAWDOWN_PCT)',
  engine_limits: 'its pre-trade limits, STRATEGIES_FILE, LOG_DIR, SLACK_APPROVERS and alert channels',
};

/** The checks that judge each part: with the part unknown they cannot be judged. */
const PART_CHECKS: Record<PolicyPart, readonly string[]> = {
  audit_settings: ['roi.audit', 'logs.unhandled_errors', 'golive.criteria', 'reconciliation.ledger', 'risk.drawdown_guard'],
  engine_limits: ['risk.pre_trade_gate', 'risk.strategy_limits', 'logging.rotation', 'logs.unhandled_errors', 'mode.approvers', 'oncall.rotation', 'alerting.channels'],
};

/** "the engine recorded its go-live policy before this version: restart the engine so it records …"; null when nothing is missing. */
export function policyIncompleteText(policy: GatePolicy, parts: PolicyPart[] = policy.missing ?? []): string | null {
  if (parts.length === 0) return null;
  return `the engine recorded its go-live policy before this version: restart the engine (ctb start) so it records ${parts.map((p) => PART_TEXT[p]).join(', and ')}`;
}

/** A failing outcome for a check that judges a part of the policy the stored row lacks; null when it can be judged. */
export function unknownPolicyOutcome(checkId: string, policy: GatePolicy): { status: 'fail'; value: string; fix: string } | null {
  const parts = (policy.missing ?? []).filter((p) => PART_CHECKS[p].includes(checkId));
  const text = policyIncompleteText(policy, parts);
  if (text === null) return null;
  return {
    status: 'fail',
    value: `not judged: ${text}. Its values are unknown until then (${policySourceText(policy)}).`,
    fix: "Restart the engine (ctb start) so it records them, then run ctb audit again.",
  };
}

/**
 * For the live switch: a failing outcome for a check that judges the engine's record (its limits,
 * STRATEGIES_FILE, LOG_DIR scan, SLACK_APPROVERS, alert channels) when that record is not the current
 * lease holder's (`notHolders`: why, from sources/lease-holder-record.ts); null when it can be judged.
 */
export function notHoldersRecordOutcome(checkId: string, policy: GatePolicy, notHolders: string | null): { status: 'fail'; value: string; fix: string } | null {
  if (notHolders === null || !PART_CHECKS.engine_limits.includes(checkId)) return null;
  return {
    status: 'fail',
    value: `not judged: the values it judges were ${policySourceText(policy)}, but ${notHolders}. Going live is judged by the engine that would trade, and only its own record counts.`,
    fix: 'Start the engine (ctb start) with the settings to go live with and leave it running: it records them when it takes the engine lease; then ask again.',
  };
}

/** The engine's limits as its process recorded them, and who and when: what the audit's risk checks judge. */
export interface RecordedEngineLimits {
  limits: EngineLimits;
  recordedBy: string;
  recordedAt: Date;
}

export function recordedEngineLimits(policy: GatePolicy): RecordedEngineLimits | null {
  return policy.engineLimits && policy.recordedBy && policy.recordedAt ? { limits: policy.engineLimits, recordedBy: policy.recordedBy, recordedAt: policy.recordedAt } : null;
}

/** This process's pre-trade limits (RISK_*): what the engine runs with, recorded, or judged before any engine recorded them. */
export function configuredPreTradeLimits(config: Config): Pick<EngineLimits, 'maxOrderNotional' | 'priceBandPct' | 'maxOpenOrders' | 'maxOrdersPerMinute' | 'selfTradePrevention'> {
  return {
    maxOrderNotional: config.RISK_MAX_ORDER_NOTIONAL, priceBandPct: config.RISK_PRICE_BAND_PCT,
    maxOpenOrders: { perPair: config.RISK_MAX_OPEN_ORDERS.perPair, total: config.RISK_MAX_OPEN_ORDERS.total },
    maxOrdersPerMinute: config.RISK_MAX_ORDERS_PER_MINUTE, selfTradePrevention: config.RISK_SELF_TRADE_PREVENTION,
  };
}

/** Where this process's alerts go: its Slack alerts channel, and email recipients when SMTP is set (null: none). */
export function configuredAlertChannels(config: Config): NonNullable<EngineLimits['alertChannels']> {
  return { slack: slackAlertsChannel(config), email: emailConfigured(config) ? emailRecipients(config) : null };
}

/** This process's pre-trade limits, with the strategies file it would load, its approvers and alert channels. */
export function configuredEngineLimits(config: Config, strategies: { file: string; sha256: string }): EngineLimits {
  return {
    ...configuredPreTradeLimits(config),
    strategiesFile: strategies.file, strategiesSha256: strategies.sha256,
    slackApprovers: [...config.SLACK_APPROVERS], alertChannels: configuredAlertChannels(config), tradingPairs: [...config.TRADING_PAIRS],
  };
}

type PolicyConfig = Pick<Config, GatePolicyEnv>;

function configuredSettings(config: PolicyConfig): AuditSettings {
  return {
    roiTolerancePct: new Decimal(config.ROI_TOLERANCE_PCT).toString(),
    logCheckWindowMs: config.LOG_CHECK_WINDOW,
    paperStartingBalance: new Decimal(config.PAPER_STARTING_BALANCE).toString(),
    legacyCutoff: config.RECONCILE_LEGACY_CUTOFF ?? null,
    riskAppetitePct: new Decimal(config.RISK_APPETITE_MAX_DRAWDOWN_PCT).toString(),
    riskMaxDrawdownPct: new Decimal(config.RISK_MAX_DRAWDOWN_PCT).toString(),
    riskDailyLossPct: new Decimal(config.RISK_DAILY_LOSS_PCT).toString(),
    riskHardDrawdownPct: new Decimal(config.RISK_HARD_DRAWDOWN_PCT).toString(),
  };
}

export function configuredThresholds(config: PolicyConfig): Required<GateThresholds> {
  return {
    minPaperTrades: config.GOLIVE_MIN_PAPER_TRADES,
    minRoiPct: new Decimal(config.GOLIVE_MIN_ROI_PCT).toString(),
    alertWindowMs: config.GOLIVE_ALERT_WINDOW,
    ...configuredSettings(config),
  };
}

const DEFAULT_SETTINGS: AuditSettings = {
  roiTolerancePct: String(GOLIVE_DEFAULTS.ROI_TOLERANCE_PCT),
  logCheckWindowMs: parseDuration(GOLIVE_DEFAULTS.LOG_CHECK_WINDOW)!,
  paperStartingBalance: String(GOLIVE_DEFAULTS.PAPER_STARTING_BALANCE),
  legacyCutoff: null,
  riskAppetitePct: String(GOLIVE_DEFAULTS.RISK_APPETITE_MAX_DRAWDOWN_PCT),
  riskMaxDrawdownPct: String(GOLIVE_DEFAULTS.RISK_MAX_DRAWDOWN_PCT),
  riskDailyLossPct: String(GOLIVE_DEFAULTS.RISK_DAILY_LOSS_PCT),
  riskHardDrawdownPct: String(GOLIVE_DEFAULTS.RISK_HARD_DRAWDOWN_PCT),
};

const DEFAULT_THRESHOLDS: Required<GateThresholds> = {
  minPaperTrades: GOLIVE_DEFAULTS.GOLIVE_MIN_PAPER_TRADES,
  minRoiPct: String(GOLIVE_DEFAULTS.GOLIVE_MIN_ROI_PCT),
  alertWindowMs: parseDuration(GOLIVE_DEFAULTS.GOLIVE_ALERT_WINDOW)!,
  ...DEFAULT_SETTINGS,
};

/** The config an audit's checks read: this process's, with the policy's audit settings in place of its own. */
export function auditConfig<C extends PolicyConfig>(config: C, used: GateThresholds): C {
  return {
    ...config,
    ...(used.roiTolerancePct !== undefined ? { ROI_TOLERANCE_PCT: Number(used.roiTolerancePct) } : {}),
    ...(used.logCheckWindowMs !== undefined ? { LOG_CHECK_WINDOW: used.logCheckWindowMs } : {}),
    ...(used.paperStartingBalance !== undefined ? { PAPER_STARTING_BALANCE: Number(used.paperStartingBalance) } : {}),
    ...(used.legacyCutoff !== undefined ? { RECONCILE_LEGACY_CUTOFF: used.legacyCutoff ?? undefined } : {}),
    ...(used.riskAppetitePct !== undefined ? { RISK_APPETITE_MAX_DRAWDOWN_PCT: Number(used.riskAppetitePct) } : {}),
    ...(used.riskMaxDrawdownPct !== undefined ? { RISK_MAX_DRAWDOWN_PCT: Number(used.riskMaxDrawdownPct) } : {}),
    ...(used.riskDailyLossPct !== undefined ? { RISK_DAILY_LOSS_PCT: Number(used.riskDailyLossPct) } : {}),
    ...(used.riskHardDrawdownPct !== undefined ? { RISK_HARD_DRAWDOWN_PCT: Number(used.riskHardDrawdownPct) } : {}),
  };
}

export async function loadGatePolicy(db: Db): Promise<GatePolicy> {
  return gatePolicyOf(await golivePolicyRow(db));
}

/**
 * The policy a stored golive_policy row (or none) stands for. A row an engine recorded before the
 * audit settings (or its limits) were part of the policy lacks them: `missing` says so, and until the
 * engine restarts the checks that judge them fail and the gate refuses (policy_incomplete).
 */
export function gatePolicyOf(row: GolivePolicy | null): GatePolicy {
  if (!row) return { thresholds: DEFAULT_THRESHOLDS, source: 'default', recordedBy: null, recordedAt: null, engineLimits: null };
  const missing: PolicyPart[] = [...(row.auditSettings ? [] : ['audit_settings' as const]), ...(row.engineLimits ? [] : ['engine_limits' as const])];
  return {
    thresholds: {
      minPaperTrades: row.minPaperTrades, minRoiPct: new Decimal(row.minRoiPct).toString(), alertWindowMs: row.alertWindowMs,
      ...DEFAULT_SETTINGS, ...row.auditSettings,
    },
    source: 'engine', recordedBy: row.recordedBy, recordedAt: row.recordedAt, engineLimits: row.engineLimits ?? null, missing,
  };
}

/**
 * The engine's process records the settings it runs with (on taking the engine lease), with its
 * pre-trade limits, the strategies file it loaded (`strategies`: absolute path and sha256; read now
 * when not given) and the release it runs (`release`: read from its own build when not given).
 */
export async function recordGatePolicy(
  db: Db, input: { config: Config; strategies?: { file: string; sha256: string }; release?: ReleaseInfo; by: string; at: Date },
): Promise<GatePolicy> {
  const t = configuredThresholds(input.config);
  const release = input.release ?? await readReleaseInfo({ buildCommit: input.config.BUILD_COMMIT });
  await upsertGolivePolicy(db, {
    minPaperTrades: t.minPaperTrades, minRoiPct: t.minRoiPct, alertWindowMs: t.alertWindowMs, auditSettings: configuredSettings(input.config),
    engineLimits: { ...configuredEngineLimits(input.config, input.strategies ?? loadStrategiesFile(input.config)), release },
    recordedBy: input.by, recordedAt: input.at,
  });
  return loadGatePolicy(db);
}

/**
 * Positive when `a` is stricter than `b`, zero when as strict, negative when looser — or, for a
 * setting that must match, different — or when `a` did not record it.
 */
function compare(name: Name, a: GateThresholds, b: GateThresholds): number {
  const x = a[name];
  const y = b[name];
  if (x === undefined) return y === undefined ? 0 : -1;
  if (y === undefined) return 1;
  const spec = SPECS[name];
  if (spec.order === 'same') {
    const equal = DECIMAL.has(name) ? decimalOrder(x, y) === 0 : x === y || (x !== null && y !== null && Date.parse(x as string) === Date.parse(y as string));
    return equal ? 0 : -1;
  }
  const order = DECIMAL.has(name) ? decimalOrder(x, y) : Math.sign((x as number) - (y as number));
  return spec.order === 'min' ? order : -order;
}

/** Where the policy comes from, as an operator reads it. */
export function policySourceText(policy: GatePolicy): string {
  return policy.source === 'engine'
    ? `recorded by the engine's process ${policy.recordedBy} at ${policy.recordedAt!.toISOString()}`
    : 'the built-in defaults (no engine has recorded a policy in this database yet)';
}

export function auditThresholds(policy: GatePolicy, config: Config): AuditThresholds {
  const mine = configuredThresholds(config);
  if (policy.source === 'default') {
    return { used: mine, described: describeThresholds(mine), settings: describeSettings(mine), source: 'process', recordedBy: null, recordedAt: null, envIgnored: [], envStricter: [] };
  }
  const used: GateThresholds = { ...policy.thresholds };
  const envIgnored: EnvOverride[] = [];
  const envStricter: EnvOverride[] = [];
  for (const name of NAMES) {
    const env = THRESHOLD_ENV[name];
    if (!config.goliveEnv?.[env]) continue;
    const order = compare(name, mine, policy.thresholds);
    if (order === 0) continue;
    const override = { env, value: thresholdText(name, mine), policy: thresholdText(name, policy.thresholds) };
    if (order < 0) {
      envIgnored.push(SPECS[name].order === 'same' ? { ...override, relation: 'different' } : override);
    } else {
      envStricter.push(override);
      (used as Record<Name, Value>)[name] = mine[name];
    }
  }
  return {
    used, described: describeThresholds(used), settings: describeSettings(used), source: 'engine', recordedBy: policy.recordedBy, recordedAt: policy.recordedAt?.toISOString() ?? null,
    envIgnored, envStricter,
  };
}

/** What the gate says of a stored run's thresholds under `policy` (thresholdRefusal, the rule it applies); null when it accepts them. */
export function thresholdStanding(run: { id: number; thresholds: GateThresholds | null }, policy: GatePolicy): ThresholdStanding | null {
  const refusal = thresholdRefusal(run, policy, 'resume');
  return refusal ? { code: refusal.code, differences: refusal.differences } : null;
}

/** Why a stored audit cannot open the gate under the current policy; null when it can. */
export interface ThresholdRefusal {
  code: ThresholdStanding['code'];
  /** Each looser threshold against the policy ("GOLIVE_ALERT_WINDOW 1m where the policy has 7d; …"); null when none were recorded. */
  differences: string | null;
  what: string;
  how: string;
}

/**
 * Holds an audit's recorded thresholds to the policy: each must be at least as strict. `purpose`
 * names what the audit was asked for ("resume", "go live") in the advice.
 */
export function thresholdRefusal(run: { id: number; thresholds: GateThresholds | null }, policy: GatePolicy, purpose: string): ThresholdRefusal | null {
  const source = policySourceText(policy);
  const incomplete = policyIncompleteText(policy);
  if (incomplete !== null) {
    return {
      code: 'policy_incomplete',
      differences: incomplete,
      what: `The gate policy (${source}) is incomplete: ${incomplete}. Until then audit run ${run.id} cannot show it met it.`,
      how: `Restart the engine (ctb start), run ctb audit (or /golive audit) again, then ${purpose}.`,
    };
  }
  if (!run.thresholds) {
    return {
      code: 'audit_thresholds_missing',
      differences: null,
      what: `Audit run ${run.id} recorded no go-live thresholds, so it cannot show it met the gate policy (${describeThresholds(policy.thresholds)}; ${source}).`,
      how: `Run ctb audit (or /golive audit) again — it records the thresholds it judged by — then ${purpose}.`,
    };
  }
  const looser = NAMES.filter((n) => compare(n, run.thresholds!, policy.thresholds) < 0);
  if (looser.length === 0) return null;
  // Settings the run did not record (it predates them) are fixed by auditing again, not by any environment.
  const names = looser.filter((n) => run.thresholds![n] !== undefined).map((n) => THRESHOLD_ENV[n]);
  const differences = looser
    .map((n) => `${THRESHOLD_ENV[n]} ${thresholdText(n, run.thresholds!)} where the policy has ${thresholdText(n, policy.thresholds)}${SPECS[n].order === 'same' ? ' (must match)' : ''}`)
    .join('; ');
  return {
    code: 'audit_thresholds_looser',
    differences,
    what: `Audit run ${run.id} judged by looser go-live thresholds than the gate policy (${source}): ${differences}.`,
    how: names.length === 0
      ? `Run ctb audit (or /golive audit) again — it records every setting it judged by — then ${purpose}.`
      : `Run ctb audit again without ${names.join(', ')} set in that shell's environment (or .env) — it then judges by the policy — and ${purpose}; `
        + `or, to change the policy, set ${names.join(', ')} in the engine's environment and restart the engine (ctb start), then audit again.`,
  };
}
