// Owns the durable record of a kill the database could not take yet: DATA_DIR/kill-pending.json.
// The exchange cancel has already happened; this file makes sure the halt is written when the
// database returns (replayed at start, by the halt watcher and by the watchdog), and that a
// restart in between starts halted. Written atomically (temp file, fsync, rename).
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

export const pendingKillSchema = z.object({
  killId: z.string().min(1),
  at: z.string(),
  actor: z.string(),
  actorSource: z.enum(['slack', 'cli', 'http', 'system']),
  trigger: z.enum(['manual', 'auto']),
  reason: z.string(),
  cancelReport: z.record(z.string(), z.unknown()),
});
export type PendingKill = z.infer<typeof pendingKillSchema>;

const fileSchema = z.object({ kills: z.array(pendingKillSchema) });

export function pendingKillPath(dataDir: string): string {
  return join(dataDir, 'kill-pending.json');
}

/** The kills waiting for the database, oldest first. A damaged file still counts as a kill. */
export function readPendingKills(dataDir: string): PendingKill[] {
  const path = pendingKillPath(dataDir);
  if (!existsSync(path)) return [];
  try {
    return fileSchema.parse(JSON.parse(readFileSync(path, 'utf8'))).kills;
  } catch {
    // Unreadable but present: someone killed the bot. Fail closed: treat it as one kill.
    return [{ killId: 'damaged-pending-file', at: new Date(0).toISOString(), actor: 'unknown', actorSource: 'system', trigger: 'manual',
      reason: `unreadable ${path}: halted to be safe`, cancelReport: {} }];
  }
}

function writeAtomically(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

export function addPendingKill(dataDir: string, kill: PendingKill): void {
  mkdirSync(dataDir, { recursive: true });
  const kills = readPendingKills(dataDir).filter((k) => k.killId !== kill.killId);
  writeAtomically(pendingKillPath(dataDir), `${JSON.stringify({ kills: [...kills, kill] }, null, 2)}\n`);
}

/** Drops the kills now written to the database; removes the file when none is left. */
export function removePendingKills(dataDir: string, killIds: string[]): void {
  const left = readPendingKills(dataDir).filter((k) => !killIds.includes(k.killId));
  if (left.length === 0) rmSync(pendingKillPath(dataDir), { force: true });
  else writeAtomically(pendingKillPath(dataDir), `${JSON.stringify({ kills: left }, null, 2)}\n`);
}
