// Owns pruning old snapshots under BACKUP_DIR by BACKUP_RETENTION (keep the newest N and/or nothing
// older than an age). Only completed snapshots (a manifest) are counted; the one just written is
// never pruned; abandoned half-written `.partial` directories older than an hour are removed.
import { existsSync } from 'node:fs';
import { readdir, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { BackupRetention } from '../../config/env.js';
import type { Db } from '../../db/client.js';
import { markBackupsPruned } from '../../db/queries/backups.js';
import { MANIFEST_FILE } from './manifest.js';
import { compareSnapshotNames, parseSnapshotName } from './snapshot-names.js';

export const PARTIAL_SUFFIX = '.partial';
const STALE_PARTIAL_MS = 60 * 60 * 1000;

export interface PruneOptions {
  backupDir: string;
  retention: BackupRetention;
  now: Date;
  /** Snapshot directory names that must survive (the one just taken). */
  keep?: string[];
  db?: Db;
}

export interface PruneResult {
  kept: string[];
  pruned: string[];
}

/** The snapshot directory names under backupDir, oldest first. */
export async function listSnapshots(backupDir: string): Promise<string[]> {
  if (!existsSync(backupDir)) return [];
  const entries = await readdir(backupDir, { withFileTypes: true });
  return entries
    .filter((e) => e.isDirectory() && parseSnapshotName(e.name) !== null && existsSync(join(backupDir, e.name, MANIFEST_FILE)))
    .map((e) => e.name)
    .sort(compareSnapshotNames);
}

/** Pure: which of these snapshot names (oldest first) the retention rule removes. */
export function selectForPruning(names: string[], retention: BackupRetention, now: Date, keep: string[] = []): string[] {
  const newestFirst = [...names].reverse();
  return newestFirst.filter((name, index) => {
    if (keep.includes(name)) return false;
    if (retention.count !== undefined && index >= retention.count) return true;
    const at = parseSnapshotName(name)?.at;
    return retention.maxAgeMs !== undefined && at !== undefined && now.getTime() - at.getTime() > retention.maxAgeMs;
  });
}

export async function pruneBackups(opts: PruneOptions): Promise<PruneResult> {
  const names = await listSnapshots(opts.backupDir);
  const doomed = selectForPruning(names, opts.retention, opts.now, opts.keep);
  for (const name of doomed) await rm(join(opts.backupDir, name), { recursive: true, force: true });
  if (opts.db && doomed.length > 0) {
    const paths = doomed.map((n) => resolve(opts.backupDir, n));
    await markBackupsPruned(opts.db, { paths, at: opts.now });
  }
  await removeStalePartials(opts.backupDir, opts.now);
  return { kept: names.filter((n) => !doomed.includes(n)), pruned: doomed.sort(compareSnapshotNames) };
}

async function removeStalePartials(backupDir: string, now: Date): Promise<void> {
  if (!existsSync(backupDir)) return;
  for (const e of await readdir(backupDir, { withFileTypes: true })) {
    if (!e.isDirectory() || !e.name.endsWith(PARTIAL_SUFFIX)) continue;
    const full = join(backupDir, e.name);
    const info = await stat(full);
    if (now.getTime() - info.mtimeMs > STALE_PARTIAL_MS) await rm(full, { recursive: true, force: true });
  }
}
