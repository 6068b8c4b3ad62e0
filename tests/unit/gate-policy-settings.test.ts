// The gate policy's audit settings that must match rather than be at least as strict
// (RECONCILE_LEGACY_CUTOFF, PAPER_STARTING_BALANCE): a shell's other value is ignored by the audit,
// and a run that judged by one is refused; the same instant written another way is the same value.
import { describe, expect, it } from 'vitest';
import { testConfig } from '../../src/config/env.js';
import { auditConfig, auditThresholds, configuredThresholds, thresholdRefusal, type GatePolicy } from '../../src/services/audit/gate-policy.js';

const policy: GatePolicy = {
  thresholds: configuredThresholds(testConfig({ RECONCILE_LEGACY_CUTOFF: '2026-01-01' })),
  source: 'engine', recordedBy: 'worker-host:4242 (worker)', recordedAt: new Date('2026-01-05T08:00:00Z'),
};

describe('a gate-policy setting that must match', () => {
  it('ignores a later RECONCILE_LEGACY_CUTOFF in the auditing shell and hands the checks the policy\'s', () => {
    const config = testConfig({ RECONCILE_LEGACY_CUTOFF: '2099-01-01' });
    const t = auditThresholds(policy, config);
    expect(t.used.legacyCutoff).toBe('2026-01-01');
    expect(t.envIgnored).toEqual([{ env: 'RECONCILE_LEGACY_CUTOFF', value: '2099-01-01', policy: '2026-01-01', relation: 'different' }]);
    expect(auditConfig(config, t.used).RECONCILE_LEGACY_CUTOFF).toBe('2026-01-01');
  });

  it('refuses a run that judged by another cutoff, or by none, and accepts the same instant written another way', () => {
    const run = (legacyCutoff: string | null) => ({ id: 9, thresholds: { ...policy.thresholds, legacyCutoff } });
    expect(thresholdRefusal(run('2099-01-01'), policy, 'resume')?.differences).toBe('RECONCILE_LEGACY_CUTOFF 2099-01-01 where the policy has 2026-01-01 (must match)');
    expect(thresholdRefusal(run(null), policy, 'resume')?.differences).toBe('RECONCILE_LEGACY_CUTOFF unset (the first live ledger fill) where the policy has 2026-01-01 (must match)');
    expect(thresholdRefusal(run('2026-01-01T00:00:00Z'), policy, 'resume')).toBeNull();
  });
});

describe('a run stored before the audit settings were recorded', () => {
  it('is refused, naming each setting it lacks, with advice to audit again rather than to change an environment', () => {
    const { minPaperTrades, minRoiPct, alertWindowMs } = policy.thresholds;
    const refusal = thresholdRefusal({ id: 3, thresholds: { minPaperTrades, minRoiPct, alertWindowMs } }, policy, 'resume')!;
    expect(refusal.code).toBe('audit_thresholds_looser');
    expect(refusal.differences).toContain('ROI_TOLERANCE_PCT not recorded where the policy has 0.5 pp; LOG_CHECK_WINDOW not recorded where the policy has 1d');
    expect(refusal.how).toBe('Run ctb audit (or /golive audit) again — it records every setting it judged by — then resume.');
  });
});
