// Owns the go-live gate policy: the thresholds that decide what counts as a passing audit
// (GOLIVE_MIN_PAPER_TRADES, GOLIVE_MIN_ROI_PCT, GOLIVE_ALERT_WINDOW). They are a safety fact, so they
// have one home, the database: the process holding the engine lease records the ones it runs with
// when it takes the lease. An audit judges by the stored policy — a value this process's environment
// sets looser is ignored (and said so), a stricter one is used — and records the thresholds it used.
// Resume and the live switch refuse an audit whose recorded thresholds are looser than the policy,
// or that recorded none. Until an engine has recorded a policy, the gate holds audits to the
// built-in defaults, and an audit judges by this process's settings.
import { formatDuration, parseDuration } from '../../config/duration.js';
import { GOLIVE_DEFAULTS, type Config } from '../../config/env.js';
import type { Db } from '../../db/client.js';
import { golivePolicyRow, upsertGolivePolicy } from '../../db/queries/golive-policy.js';
import type { GolivePolicy } from '../../db/schema/index.js';
import { Decimal } from '../../money.js';
import type { AuditThresholds, EnvOverride, GateThresholds } from '../../domain/golive-thresholds.js';

export { auditThresholdLines, type AuditThresholds, type GateThresholds } from '../../domain/golive-thresholds.js';

type Name = keyof GateThresholds;

/** Each threshold's variable, in the order they are shown. */
export const THRESHOLD_ENV: Record<Name, 'GOLIVE_MIN_PAPER_TRADES' | 'GOLIVE_MIN_ROI_PCT' | 'GOLIVE_ALERT_WINDOW'> = {
  minPaperTrades: 'GOLIVE_MIN_PAPER_TRADES',
  minRoiPct: 'GOLIVE_MIN_ROI_PCT',
  alertWindowMs: 'GOLIVE_ALERT_WINDOW',
};

export function thresholdText(name: Name, t: GateThresholds): string {
  return name === 'alertWindowMs' ? formatDuration(t.alertWindowMs) : name === 'minRoiPct' ? `${t.minRoiPct}%` : String(t.minPaperTrades);
}

/** "≥ 50 paper trades, paper ROI > 0%, no critical alert in 7d". */
export function describeThresholds(t: GateThresholds): string {
  return `≥ ${t.minPaperTrades} paper trades, paper ROI > ${t.minRoiPct}%, no critical alert in ${formatDuration(t.alertWindowMs)}`;
}

const NAMES = Object.keys(THRESHOLD_ENV) as Name[];

export interface GatePolicy {
  thresholds: GateThresholds;
  /** `engine`: recorded by the engine's process; `default`: none recorded yet, the built-in defaults. */
  source: 'engine' | 'default';
  recordedBy: string | null;
  recordedAt: Date | null;
}

export function configuredThresholds(config: Pick<Config, 'GOLIVE_MIN_PAPER_TRADES' | 'GOLIVE_MIN_ROI_PCT' | 'GOLIVE_ALERT_WINDOW'>): GateThresholds {
  return {
    minPaperTrades: config.GOLIVE_MIN_PAPER_TRADES,
    minRoiPct: new Decimal(config.GOLIVE_MIN_ROI_PCT).toString(),
    alertWindowMs: config.GOLIVE_ALERT_WINDOW,
  };
}

const DEFAULT_THRESHOLDS: GateThresholds = {
  minPaperTrades: GOLIVE_DEFAULTS.GOLIVE_MIN_PAPER_TRADES,
  minRoiPct: String(GOLIVE_DEFAULTS.GOLIVE_MIN_ROI_PCT),
  alertWindowMs: parseDuration(GOLIVE_DEFAULTS.GOLIVE_ALERT_WINDOW)!,
};

export async function loadGatePolicy(db: Db): Promise<GatePolicy> {
  return gatePolicyOf(await golivePolicyRow(db));
}

/** The policy a stored golive_policy row (or none) stands for. */
export function gatePolicyOf(row: GolivePolicy | null): GatePolicy {
  if (!row) return { thresholds: DEFAULT_THRESHOLDS, source: 'default', recordedBy: null, recordedAt: null };
  return {
    thresholds: { minPaperTrades: row.minPaperTrades, minRoiPct: new Decimal(row.minRoiPct).toString(), alertWindowMs: row.alertWindowMs },
    source: 'engine', recordedBy: row.recordedBy, recordedAt: row.recordedAt,
  };
}

/** The engine's process records the thresholds it runs with (on taking the engine lease). */
export async function recordGatePolicy(db: Db, input: { config: Config; by: string; at: Date }): Promise<GatePolicy> {
  const t = configuredThresholds(input.config);
  await upsertGolivePolicy(db, { minPaperTrades: t.minPaperTrades, minRoiPct: t.minRoiPct, alertWindowMs: t.alertWindowMs, recordedBy: input.by, recordedAt: input.at });
  return loadGatePolicy(db);
}

/** Positive when `a` is stricter than `b` (every threshold is a minimum: more is stricter). */
function compare(name: Name, a: GateThresholds, b: GateThresholds): number {
  if (name === 'minRoiPct') return new Decimal(a.minRoiPct).cmp(b.minRoiPct);
  return Math.sign(a[name] - b[name]);
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
    return { used: mine, described: describeThresholds(mine), source: 'process', recordedBy: null, recordedAt: null, envIgnored: [], envStricter: [] };
  }
  const used = { ...policy.thresholds };
  const envIgnored: EnvOverride[] = [];
  const envStricter: EnvOverride[] = [];
  for (const name of NAMES) {
    const env = THRESHOLD_ENV[name];
    if (!config.goliveEnv?.[env]) continue;
    const order = compare(name, mine, policy.thresholds);
    if (order === 0) continue;
    const override = { env, value: thresholdText(name, mine), policy: thresholdText(name, policy.thresholds) };
    if (order < 0) {
      envIgnored.push(override);
    } else {
      envStricter.push(override);
      (used as Record<Name, number | string>)[name] = mine[name];
    }
  }
  return { used, described: describeThresholds(used), source: 'engine', recordedBy: policy.recordedBy, recordedAt: policy.recordedAt?.toISOString() ?? null, envIgnored, envStricter };
}

/** Why a stored audit cannot open the gate under the current policy; null when it can. */
export interface ThresholdRefusal {
  code: 'audit_thresholds_missing' | 'audit_thresholds_looser';
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
  const names = looser.map((n) => THRESHOLD_ENV[n]);
  const differences = looser.map((n) => `${THRESHOLD_ENV[n]} ${thresholdText(n, run.thresholds!)} where the policy has ${thresholdText(n, policy.thresholds)}`).join('; ');
  return {
    code: 'audit_thresholds_looser',
    differences,
    what: `Audit run ${run.id} judged by looser go-live thresholds than the gate policy (${source}): ${differences}.`,
    how: `Run ctb audit again without ${names.join(', ')} set in that shell's environment (or .env) — it then judges by the policy — and ${purpose}; `
      + `or, to change the policy, set ${names.join(', ')} in the engine's environment and restart the engine (ctb start), then audit again.`,
  };
}
