// Owns which of an audit's checks a resume in paper requires. A resume lifts a halt into paper; the
// switch to live runs the go-live audit again (purpose `golive`) and needs two approvers. So a resume
// requires every check that says the bot is safe to trade paper (reconciliation, config, credentials,
// logs, risk limits, the kill switch), and not the one that measures a trading record for going live:
// golive.criteria (closed paper trades, paper ROI, no critical alert in GOLIVE_ALERT_WINDOW). A halted
// bot cannot paper trade to meet it, and the alerts of the incident it is leaving would hold it for the
// whole window. /mode live still requires it.
import type { CheckResult } from '../audit/types.js';

/** The checks that judge readiness to go live rather than safety to trade paper. */
export const GO_LIVE_RECORD_CHECKS: readonly string[] = ['golive.criteria'];

/** A stored run's verdict for a resume in paper. */
export interface ResumeAuditVerdict {
  /** Every check a resume requires passed (or warned). */
  passed: boolean;
  /** The go-live record checks that failed and a resume did not require: /mode live will. */
  notRequired: { id: string; value: string }[];
}

export function judgeAuditForResume(run: { passed: boolean; results: Pick<CheckResult, 'id' | 'status' | 'value'>[] }): ResumeAuditVerdict {
  const failed = run.results.filter((r) => r.status === 'fail');
  const notRequired = failed.filter((r) => GO_LIVE_RECORD_CHECKS.includes(r.id)).map((r) => ({ id: r.id, value: r.value }));
  // A run stored as failed with no failing check recorded is failed: nothing shows which checks failed.
  const passed = run.passed || (failed.length > 0 && notRequired.length === failed.length);
  return { passed, notRequired: run.passed ? [] : notRequired };
}

/** What a resume's reply says of the checks it did not require; null when the audit failed none of them. */
export function notRequiredNote(notRequired: ResumeAuditVerdict['notRequired']): string | null {
  if (notRequired.length === 0) return null;
  return `Not required to resume in paper: ${notRequired.map((c) => `${c.id} (${c.value})`).join('; ')}. `
    + `/mode live (ctb mode live) runs the go-live audit again and requires ${notRequired.length === 1 ? 'it' : 'them'}.`;
}
