// `verify-credentials`: the credential part of the audit alone — where the keys come from and how
// they are stored, and that the key authenticates, can trade and cannot withdraw. Read-only; not
// stored as an audit run (the command log records it).
import { z } from 'zod';
import { runAudit } from '../src/services/audit/run-audit.js';
import type { AuditReport } from '../src/services/audit/types.js';
import { defineCommand } from './define.js';

export const CREDENTIAL_CHECKS = ['credentials.storage', 'exchange.key_rights'];

export const verifyCredentialsCommand = defineCommand<z.ZodObject<{}>, AuditReport>({
  name: 'verify-credentials',
  summary: 'check the Kraken key: stored safely, authenticates, can trade, cannot withdraw',
  role: 'reader',
  args: z.object({}).strict(),
  run: (ctx) => runAudit(ctx, { actor: ctx.actor, dryRun: true, cwd: process.cwd(), only: CREDENTIAL_CHECKS }),
});
