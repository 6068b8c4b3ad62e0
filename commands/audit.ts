// `audit`: the go-live audit — every checklist item a program can check, each pass/warn/fail with
// its measured value and a one-line fix; stored in audit_runs. `/golive audit` and `ctb audit`.
// The result is an AuditReport (docs/audit-json.md): self-describing, renderable without lookups.
import { z } from 'zod';
import { runAudit } from '../src/services/audit/run-audit.js';
import type { AuditReport } from '../src/services/audit/types.js';
import { defineCommand } from './define.js';

export const auditArgs = z
  .object({
    /** Only read-only exchange calls; nothing changes but the stored run record. */
    dryRun: z.boolean().default(false),
  })
  .strict();

export const auditCommand = defineCommand<typeof auditArgs, AuditReport>({
  name: 'audit',
  summary: 'run the go-live audit (every checklist item a program can check)',
  role: 'reader',
  args: auditArgs,
  run: (ctx, args) => runAudit(ctx, { actor: ctx.actor, dryRun: args.dryRun, cwd: process.cwd() }),
});
