// `/golive audit [dry-run]` (operators): the go-live audit against the exchange takes longer than
// Slack's 3 seconds, so the delivery guard has acked already; the operator sees "running the
// audit…" at once, and the verdict is posted in the channel (or thread) the command came from.
import type { z } from 'zod';
import { auditCommand, type auditArgs } from '../../../commands/audit.js';
import type { Command } from '../../../commands/define.js';
import type { AuditReport } from '../../services/audit/types.js';
import { renderAuditRunning, renderAuditVerdict } from '../views/audit.js';
import { usageError } from './routes.js';
import type { SlashRequest, SlashSubcommand } from './types.js';

export const GOLIVE_AUDIT_USAGE = '/golive audit [dry-run]';

export function parseGoLiveAuditText(rest: string): z.input<typeof auditArgs> {
  const words = rest.trim().toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return { dryRun: false };
  if (words.length === 1 && ['dry-run', 'dryrun', '--dry-run'].includes(words[0]!)) return { dryRun: true };
  throw usageError(`\`/golive audit\` takes nothing, or \`dry-run\` for read-only exchange calls; got "${rest.trim()}".`);
}

export function goLiveAuditRoute(opts: { command?: Command<typeof auditArgs, AuditReport> } = {}): SlashSubcommand {
  const command = opts.command ?? auditCommand;
  return {
    name: 'audit',
    usage: GOLIVE_AUDIT_USAGE,
    summary: 'Run the go-live audit against the exchange and post the verdict here',
    role: 'operator',
    async handle(req: SlashRequest) {
      const args = parseGoLiveAuditText(req.rest);
      await req.reply.ephemeral(renderAuditRunning({ dryRun: args.dryRun === true }));
      const report = await req.run(command, args);
      await req.reply.inChannel(renderAuditVerdict(report));
    },
  };
}
