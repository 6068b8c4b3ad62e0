// Owns the guard on the embedded database directory. Two processes opening one PGlite directory
// lose data silently, so the first process takes DATA_DIR/pglite.lock (pid + socket path) and
// serves the database over a local socket; every later process connects through that socket.
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { AppError } from '../errors.js';
import { pidRunning, processStart } from '../process-liveness.js';

export interface LockInfo {
  pid: number;
  socketPath: string | null;
  since: string;
  /** Who holds it, for the message a second `ctb start` prints (absent in locks written by older versions). */
  host?: string;
  /** `ctb start --role …` for the running bot; absent for a one-off CLI command. */
  role?: string;
  /**
   * When the holding process started, as Linux counts it (/proc/<pid>/stat's starttime, clock ticks
   * since boot): its pid may be another process's once it is gone. Absent off Linux and in locks
   * written by older versions.
   */
  procStart?: string;
}

/** "pid 1234 on host h (ctb start --role all) since 2026-…": names the holder for people. */
export function describeLockOwner(info: LockInfo): string {
  const what = info.role ? `ctb start --role ${info.role}` : 'a ctb command';
  return `pid ${info.pid} on host ${info.host ?? 'unknown'} (${what}) since ${info.since}`;
}

/**
 * Whether the process that wrote `info` still runs (process-liveness.ts: a zombie or a later process
 * given its pid holds nothing). Another host's process (a DATA_DIR on a shared volume) is not judged
 * by this machine's processes: held.
 */
function isAlive(info: Pick<LockInfo, 'pid' | 'procStart' | 'host'>): boolean {
  if (info.host !== undefined && info.host !== hostname()) return true;
  return pidRunning(info.pid, info.procStart);
}

export function lockPath(dataDir: string): string {
  return join(dataDir, 'pglite.lock');
}

/** The current owner, or null when nobody (alive) holds the directory. */
export function readLock(dataDir: string): LockInfo | null {
  const path = lockPath(dataDir);
  if (!existsSync(path)) return null;
  try {
    const info = JSON.parse(readFileSync(path, 'utf8')) as LockInfo;
    if (typeof info.pid === 'number' && info.pid !== process.pid && isAlive(info)) return info;
    if (info.pid === process.pid) return info;
  } catch {
    // A torn or foreign file: treat as stale; acquireLock re-creates it atomically.
  }
  return null;
}

/** Takes the directory for this process. Returns false when another live process holds it. */
export function acquireLock(dataDir: string, socketPath: string | null, role?: string): boolean {
  mkdirSync(dataDir, { recursive: true });
  const path = lockPath(dataDir);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      const procStart = processStart('self');
      const info: LockInfo = { pid: process.pid, socketPath, since: new Date().toISOString(), host: hostname(), ...(role ? { role } : {}), ...(procStart ? { procStart } : {}) };
      writeSync(fd, JSON.stringify(info));
      closeSync(fd);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = readLock(dataDir);
      if (owner && owner.pid !== process.pid) return false;
      rmSync(path, { force: true }); // stale: its process is gone
    }
  }
  return false;
}

export function releaseLock(dataDir: string): void {
  const owner = readLock(dataDir);
  if (owner?.pid === process.pid) rmSync(lockPath(dataDir), { force: true });
}

/**
 * A second bot on one embedded database would connect through the first one's socket and trade
 * beside it (every socket client shares one session: nothing there can keep them apart). The bot
 * that serves the directory is the only engine on it: a second `ctb start` is refused, naming it.
 */
export function refuseSecondBot(dataDir: string, owner: LockInfo | null): void {
  if (!owner || owner.pid === process.pid) return;
  // A state that refuses the start (README: exit 1), not a configuration error: it passes once that bot stops.
  throw new AppError('conflict', 'data_dir_in_use', `DATA_DIR ${dataDir} is already in use by ${describeLockOwner(owner)}: one bot per embedded database.`, {
    hint: owner.role
      ? 'Stop that bot first, or use ctb commands beside it (ctb stats, ctb kill, ctb mode status); for several processes use PostgreSQL (DATABASE_URL).'
      : 'Wait for that command to finish, then start the bot.',
  });
}
