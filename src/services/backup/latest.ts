// Owns "what is our newest backup, and is it still good": the go-live audit and the runbook ask it.
import type { Db } from '../../db/client.js';
import { latestUnprunedBackup } from '../../db/queries/backups.js';
import type { BackupRecord } from '../../db/schema/index.js';
import { readManifest } from './manifest.js';
import { verifySnapshot, type SnapshotVerification } from './verify.js';

export async function latestBackup(db: Db): Promise<BackupRecord | null> {
  return (await latestUnprunedBackup(db)) ?? null;
}

export interface BackupHealth {
  record: BackupRecord;
  verification: SnapshotVerification;
  /** Which parts the snapshot holds (a config snapshot, logs, reports, the database export). */
  holds: { config: boolean; logs: boolean; reports: boolean; database: boolean };
}

export async function inspectLatestBackup(db: Db): Promise<BackupHealth | null> {
  const record = await latestBackup(db);
  if (!record) return null;
  const verification = await verifySnapshot(db, record.path);
  const read = await readManifest(record.path);
  const paths = 'manifest' in read ? read.manifest.files.map((f) => f.path) : [];
  const has = (prefix: string) => paths.some((p) => p.startsWith(prefix));
  return { record, verification, holds: { config: has('config/'), logs: has('logs/'), reports: has('reports/'), database: has('db/') } };
}
