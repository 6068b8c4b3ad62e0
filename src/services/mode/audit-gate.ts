// Owns the live switch's gate: the whole go-live audit (every registered check, the paper→live
// criteria among them), run as a dry run — read-only exchange calls, nothing changes but the stored
// run — when the request is opened and again at the moment of the switch. The run must have judged by
// thresholds at least as strict as the gate policy stored now (it could be tightened while it ran).
// It runs with purpose `golive`: a check that only warns an operator's audit (an untagged release) fails here.
import { loadGatePolicy, thresholdRefusal } from '../audit/gate-policy.js';
import { runAudit } from '../audit/run-audit.js';
import type { AuditCheck } from '../audit/types.js';
import type { RecordedCheck } from '../../db/schema/index.js';
import type { GoLiveGate } from './ports.js';

export function auditGate(opts: { checks?: AuditCheck[]; cwd?: string } = {}): GoLiveGate {
  return async (ctx, { actor }) => {
    const report = await runAudit(ctx, {
      actor, dryRun: true, purpose: 'golive', cwd: opts.cwd ?? process.cwd(), ...(opts.checks ? { checks: opts.checks } : {}),
    });
    const checks: RecordedCheck[] = report.results.map((r) => ({
      id: r.id, name: r.title, status: r.status, value: r.value, ...(r.fix ? { fix: r.fix } : {}),
    }));
    const refusal = report.ok ? thresholdRefusal({ id: report.runId, thresholds: report.thresholds.used }, await loadGatePolicy(ctx.db), 'request live again') : null;
    if (refusal) checks.push({ id: 'golive.policy', name: 'Go-live thresholds at least the gate policy', status: 'fail', value: refusal.what, fix: refusal.how });
    return {
      passed: report.ok && !refusal,
      summary: !refusal ? report.summaryLine
        : refusal.code === 'policy_incomplete' ? `${report.summaryLine}, but the gate policy is incomplete` : `${report.summaryLine}, but judged by thresholds looser than the gate policy`,
      auditRunId: report.runId > 0 ? report.runId : null,
      checks,
    };
  };
}
