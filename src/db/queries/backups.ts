// Owns the SQL of the backups record: recording a sealed snapshot, the newest snapshot not pruned,
// the record of one snapshot directory, and marking snapshots pruned.
import { desc, eq, inArray, isNull } from 'drizzle-orm';
import type { Db } from '../client.js';
import { backups, type BackupRecord } from '../schema/index.js';

export type NewBackupRecord = typeof backups.$inferInsert;

/** Records a sealed snapshot; its id. */
export async function insertBackupRecord(db: Db, values: NewBackupRecord): Promise<number> {
  const [row] = await db.insert(backups).values(values).returning({ id: backups.id });
  return row!.id;
}

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
