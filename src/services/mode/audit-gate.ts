// Owns the live switch's gate: the whole go-live audit (every registered check, the paper→live
// criteria among them), run as a dry run — read-only exchange calls, nothing changes but the stored
// run — when the request is opened and again at the moment of the switch.
import { runAudit } from '../audit/run-audit.js';
import type { AuditCheck } from '../audit/types.js';
import type { GoLiveGate } from './ports.js';

export function auditGate(opts: { checks?: AuditCheck[]; cwd?: string } = {}): GoLiveGate {
  return async (ctx, { actor }) => {
    const report = await runAudit(ctx, {
      actor, dryRun: true, cwd: opts.cwd ?? process.cwd(), ...(opts.checks ? { checks: opts.checks } : {}),
    });
    return {
      passed: report.ok,
      summary: report.summaryLine,
      auditRunId: report.runId > 0 ? report.runId : null,
      checks: report.results.map((r) => ({
        id: r.id, name: r.title, status: r.status, value: r.value, ...(r.fix ? { fix: r.fix } : {}),
      })),
    };
  };
}
