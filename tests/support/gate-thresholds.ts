// The audit settings of the gate policy at their built-in defaults (ROI_TOLERANCE_PCT 0.5,
// LOG_CHECK_WINDOW 24h, PAPER_STARTING_BALANCE 10000, RECONCILE_LEGACY_CUTOFF unset, the drawdown
// guard's RISK_* at theirs): what a test's stored audit run records beside its go-live thresholds
// when it judged by them.
import type { AuditSettings } from '../../src/domain/golive-thresholds.js';

export const DEFAULT_AUDIT_SETTINGS: AuditSettings = {
  roiTolerancePct: '0.5', logCheckWindowMs: 86_400_000, paperStartingBalance: '10000', legacyCutoff: null,
  riskAppetitePct: '20', riskMaxDrawdownPct: '10', riskDailyLossPct: '3', riskHardDrawdownPct: '15',
};

/** The drawdown guard's settings of an engine started with tests/integration/engine-lease/one-engine-bots.ts's baseEnv. */
export const BOT_RISK_SETTINGS = { riskMaxDrawdownPct: '100', riskDailyLossPct: '100', riskHardDrawdownPct: '100' } as const;
