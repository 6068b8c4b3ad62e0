// Owns the SQL of the backups record: the newest snapshot not pruned, the record of one snapshot
// directory, and marking snapshots pruned.
import { desc, eq, inArray, isNull } from 'drizzle-orm';
import type { Db } from '../client.js';
import { backups, type BackupRecord } from '../schema/index.js';

export async function latestUnprunedBackup(db: Db): Promise<BackupRecord | undefined> {
  const [row] = await db.select().from(backups).where(isNull(backups.prunedAt)).orderBy(desc(backups.at), desc(backups.id)).limit(1);
  return row;
}

/** The newest record of the snapshot at `path` (an absolute directory). */
export async function backupAtPath(db: Db, path: string): Promise<BackupRecord | undefined> {
  const [row] = await db.select().from(backups).where(eq(backups.path, path)).orderBy(desc(backups.id)).limit(1);
  return row;
}

export async function markBackupsPruned(db: Db, input: { paths: string[]; at: Date }): Promise<void> {
  await db.update(backups).set({ prunedAt: input.at }).where(inArray(backups.path, input.paths));
}
