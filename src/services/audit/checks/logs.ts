// Checklist 3: "Tail logs/system.log and logs/anomalies.log — ensure no unhandled errors remain."
// Judges the last LOG_CHECK_WINDOW of both files (and fresh archives) as the engine's process scanned
// them and published the scan (sources/engine-logs.ts), and fails naming the first few.
import { formatDuration } from '../../../config/duration.js';
import { describeFinding, describeLogWarning } from '../../../domain/log-finding.js';
import { logFactsToJudge } from '../sources/engine-logs.js';
import { defineCheck } from '../types.js';

export const unhandledErrorsCheck = defineCheck({
  id: 'logs.unhandled_errors',
  title: 'No unhandled errors in system.log / anomalies.log',
  checklistSection: 3,
  async run(ctx) {
    // The engine's own scan of its LOG_DIR: this process's LOG_DIR is not the engine's, wherever it runs.
    const logs = await logFactsToJudge(ctx, { windowMs: ctx.config.LOG_CHECK_WINDOW });
    if (!logs.judged) return logs.outcome;
    const { scan: result, logDir } = logs.facts;
    const whose = logs.source === 'engine' ? ` (${logs.from})` : '';
    const details = {
      window: result.window, from: result.from, total: result.total, findings: result.findings, files: result.files, warnings: result.warnings, logDir, logDirFrom: logs.from,
    };
    if (result.files.length === 0) {
      return {
        status: 'warn',
        value: `no system.log or anomalies.log in ${logDir}${whose}`,
        fix: 'Run the bot (npm start) so it writes LOG_DIR, or point LOG_DIR at the directory the bot writes to.',
        details,
      };
    }
    const warned = result.warnings.map(describeLogWarning);
    if (result.ok && warned.length === 0) return { status: 'pass', value: `${result.summary}${whose}`, fix: null, details };
    if (result.ok) {
      return {
        status: 'warn',
        value: `${result.summary}; but ${warned.join('; ')}${whose}`,
        fix: `Read those lines in ${logDir} (file:line above): an error written there is not caught by this check. Fix what wrote them, or move them out of LOG_DIR once read.`,
        details,
      };
    }
    return {
      status: 'fail',
      value: `${result.total} unhandled error${result.total === 1 ? '' : 's'} in the last ${formatDuration(logs.facts.windowMs)}: ${result.findings.map(describeFinding).join('; ')}${result.total > result.findings.length ? `; and ${result.total - result.findings.length} more` : ''}${warned.length > 0 ? `; also ${warned.join('; ')}` : ''}${whose}`,
      fix: `Read each one in ${logDir} (file:line above), fix its cause, and re-run the audit once the window (LOG_CHECK_WINDOW) holds none.`,
      details,
    };
  },
});
