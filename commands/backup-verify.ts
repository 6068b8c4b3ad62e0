// `ctb backup verify <dir>`: every file of a snapshot against its manifest (missing, altered, extra)
// and the manifest against the checksum recorded when it was taken. Fails (exit 1) on any difference.
import { z } from 'zod';
import { verifySnapshot, type SnapshotVerification } from '../src/services/backup/index.js';
import { defineCommand } from './define.js';

export type BackupVerifyResult = SnapshotVerification;

export const backupVerifyCommand = defineCommand({
  name: 'backup verify',
  summary: 'check a backup snapshot against its manifest of SHA-256 checksums',
  role: 'reader',
  args: z.object({ dir: z.string().trim().min(1, 'expected the snapshot directory, e.g. backups/20260105T120000Z') }),
  async run(ctx, args): Promise<BackupVerifyResult> {
    return verifySnapshot(ctx.db, args.dir);
  },
});
