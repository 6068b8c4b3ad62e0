// `ctb audit-log [2h|ISO] [--period 2h|ISO] [--user U…|cli:…] [--command name] [--limit N] [--json]`
// (--since is the deprecated name of --period).
import { AUDIT_LOG_DEFAULT_LIMIT, AUDIT_LOG_MAX_LIMIT, auditLogCommand } from '../../../commands/audit-log.js';
import { addPeriod, periodOrExit, type PeriodOptionSpec } from '../period-option.js';
import type { CliRegistration } from '../program.js';
import { renderAuditLogText } from '../render/audit-log.js';
import { runCliCommand } from '../with-context.js';

const PERIOD: PeriodOptionSpec = { describe: 'entries of the last 30m, 2h, 7d…, or since an ISO date/time (2026-11-20T09:30Z)', deprecated: ['since'] };

interface AuditLogOptions {
  period?: string;
  since?: string;
  user?: string;
  command?: string;
  limit?: string;
  json: boolean;
}

export const auditLogCli: CliRegistration = {
  register(program, io, setExit) {
    const auditLog = program
      .command('audit-log')
      .description('the command trail: every command from Slack, the terminal and jobs — who, when, arguments, allowed or refused, result');
    addPeriod(auditLog, PERIOD)
      .option('--user <id>', 'only this actor: a Slack user id (U012ABCDEF), cli:<name> or system:<job>')
      .option('--command <name>', 'only this command or its first word: kill, mode, "mode paper"')
      .option('--limit <n>', `the newest N entries, 1-${AUDIT_LOG_MAX_LIMIT} (default ${AUDIT_LOG_DEFAULT_LIMIT})`)
      .option('--json', 'print the result as JSON', false)
      .action(async (positional: string | undefined, opts: AuditLogOptions) => {
        const asked = periodOrExit(io, 'audit-log', positional, { ...opts }, PERIOD);
        if (typeof asked === 'number') return setExit(asked);
        const args = {
          ...(asked.period !== undefined ? { since: asked.period } : {}),
          ...(opts.user !== undefined ? { user: opts.user } : {}),
          ...(opts.command !== undefined ? { command: opts.command } : {}),
          ...(opts.limit !== undefined ? { limit: opts.limit } : {}),
        };
        setExit(await runCliCommand(io, auditLogCommand, args, { json: opts.json, render: renderAuditLogText }));
      });
  },
};
