// `ctb check-logs [2h] [--period 2h] [--limit 5] [--json]` (--window is the deprecated name of --period).
import { checkLogsCommand, type CheckLogsResult } from '../../../commands/check-logs.js';
import { describeFinding, describeLogWarning } from '../../domain/log-finding.js';
import { addPeriod, periodOrExit, type PeriodOptionSpec } from '../period-option.js';
import type { CliRegistration } from '../program.js';
import { runCliCommand } from '../with-context.js';

export function renderCheckLogs(r: CheckLogsResult): string {
  const read = r.files.map((f) => `${f.file} (${f.inWindow} of ${f.lines} lines in the window${f.malformed ? `, ${f.malformed} unreadable` : ''})`).join(', ');
  const status = !r.ok ? 'FAILED' : r.warnings.length > 0 ? 'WARN' : 'OK';
  const head = `${status} ${r.logDir}, ${r.from} → ${r.to}: ${r.ok ? r.summary : `${r.total} unhandled error${r.total === 1 ? '' : 's'}`}`;
  const lines = [head];
  if (!r.ok) lines.push(...r.findings.map((f) => `  ${describeFinding(f)}`), ...(r.total > r.findings.length ? [`  … and ${r.total - r.findings.length} more`] : []));
  lines.push(...r.warnings.map((w) => `  warning: ${describeLogWarning(w)}`));
  if (read) lines.push(`  read: ${read}`);
  return lines.join('\n');
}

const PERIOD: PeriodOptionSpec = { describe: 'how far back to look, e.g. 30m, 2h, 1d (default LOG_CHECK_WINDOW)', deprecated: ['window'] };

export const checkLogsCli: CliRegistration = {
  register(program, io, setExit) {
    const checkLogs = program
      .command('check-logs')
      .description('look for unhandled errors in LOG_DIR/system.log and anomalies.log (exit 1 when any)');
    addPeriod(checkLogs, PERIOD)
      .option('--limit <n>', 'how many errors to name (1-100)', (v) => Number(v), 5)
      .option('--json', 'machine-readable output')
      .action(async (positional: string | undefined, opts: { period?: string; window?: string; limit: number; json?: boolean }) => {
        const asked = periodOrExit(io, 'check-logs', positional, { ...opts }, PERIOD);
        if (typeof asked === 'number') return setExit(asked);
        const args = { limit: opts.limit, ...(asked.period !== undefined ? { period: asked.period } : {}) };
        setExit(await runCliCommand(io, checkLogsCommand, args, { json: !!opts.json, render: renderCheckLogs, progress: 'reading the logs' }));
      });
  },
};
