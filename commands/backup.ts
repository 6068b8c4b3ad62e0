// `ctb backup [--reason …]`: snapshot configuration (secrets redacted), logs, reports and the
// database into BACKUP_DIR/<timestamp>/ with a SHA-256 manifest, then prune by BACKUP_RETENTION.
import { z } from 'zod';
import { createSnapshot, type SnapshotResult } from '../src/services/backup/index.js';
import { defineCommand } from './define.js';

export interface BackupResult extends SnapshotResult {
  ok: true;
}

export const backupCommand = defineCommand({
  name: 'backup',
  summary: 'snapshot configuration (secrets redacted), logs, reports and the ledger into BACKUP_DIR',
  role: 'operator',
  args: z.object({
    reason: z
      .string()
      .trim()
      .min(1, 'expected a short reason such as "pre-deploy"')
      .max(200, 'expected a reason of at most 200 characters')
      .default('manual'),
    envFile: z.string().optional(),
  }),
  async run(ctx, args): Promise<BackupResult> {
    const result = await createSnapshot(ctx, { reason: args.reason, actor: ctx.actor.id, ...(args.envFile ? { envFile: args.envFile } : {}) });
    return { ok: true, ...result };
  },
});
