// Owns which pre-trade limits and strategies file the audit's risk checks judge: the engine's, as its
// process recorded them with the gate policy when it took the engine lease — a shell may set other
// RISK_* or another STRATEGIES_FILE than the engine runs with — else, before any engine recorded
// them, this process's own.
import { inspectStrategies, strategiesPath, type StrategiesInspection } from '../../../engine/strategies/config.js';
import type { EngineLimits } from '../../../domain/golive-thresholds.js';
import { configuredPreTradeLimits } from '../gate-policy.js';
import type { AuditContext } from '../types.js';

export interface JudgedLimits {
  limits: Omit<EngineLimits, 'strategiesFile' | 'strategiesSha256'>;
  strategiesFile: string;
  /** The sha256 the engine recorded of the strategies it loaded; null when judging this process's settings. */
  recordedSha256: string | null;
  source: 'engine' | 'process';
  /** Where the values came from, as an operator reads it. */
  from: string;
}

export function judgedLimits(ctx: Pick<AuditContext, 'config'> & { engineLimits?: AuditContext['engineLimits'] }): JudgedLimits {
  const recorded = ctx.engineLimits ?? null;
  if (recorded) {
    const { strategiesFile, strategiesSha256, ...limits } = recorded.limits;
    return {
      limits, strategiesFile, recordedSha256: strategiesSha256, source: 'engine',
      from: `the engine's, recorded by its process ${recorded.recordedBy} at ${recorded.recordedAt.toISOString()}`,
    };
  }
  const c = ctx.config;
  return {
    limits: configuredPreTradeLimits(c),
    strategiesFile: strategiesPath(c), recordedSha256: null, source: 'process',
    from: "this process's settings (no engine has recorded its limits in this database yet)",
  };
}

/** The strategies file judged, read now; `changed` when its bytes are not the ones the engine loaded. */
export function judgedStrategies(j: JudgedLimits): StrategiesInspection & { changed: boolean } {
  const inspection = inspectStrategies(j.strategiesFile);
  return { ...inspection, changed: j.recordedSha256 !== null && inspection.sha256 !== j.recordedSha256 };
}
