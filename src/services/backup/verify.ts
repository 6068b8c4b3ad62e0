// Owns `ctb backup verify`: the directory against its manifest, and the manifest against the SHA-256
// recorded in `backups` when the snapshot was taken (so rewriting the manifest to match a tampered
// file is caught too, when the snapshot was taken by this installation).
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Db } from '../../db/client.js';
import { backupAtPath } from '../../db/queries/backups.js';
import { MANIFEST_FILE, sha256, verifySnapshotDir, type VerifyResult } from './manifest.js';

export interface SnapshotVerification extends VerifyResult {
  /** Whether a `backups` row recorded this directory, and whether its manifest checksum matches. */
  recorded: 'matches' | 'differs' | 'not_recorded';
}

export async function verifySnapshot(db: Db, dir: string): Promise<SnapshotVerification> {
  const path = resolve(dir);
  const result = await verifySnapshotDir(path);
  const row = await backupAtPath(db, path);
  if (!row) return { ...result, recorded: 'not_recorded' };
  let text: string | null = null;
  try {
    text = await readFile(join(path, MANIFEST_FILE), 'utf8');
  } catch {
    // verifySnapshotDir already reported the missing manifest
  }
  if (text === null || sha256(text) === row.manifestSha256) return { ...result, recorded: text === null ? 'differs' : 'matches' };
  return {
    ...result,
    ok: false,
    recorded: 'differs',
    problems: [
      ...result.problems,
      { kind: 'manifest', path: MANIFEST_FILE, detail: `${MANIFEST_FILE} differs from the one recorded when the snapshot was taken (${row.at.toISOString()})` },
    ],
  };
}
