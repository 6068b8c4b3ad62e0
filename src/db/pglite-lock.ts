// Owns the guard on the embedded database directory. Two processes opening one PGlite directory
// lose data silently, so the first process takes DATA_DIR/pglite.lock (pid + socket path) and
// serves the database over a local socket; every later process connects through that socket.
//
// A lock left by a process that is gone is taken over, and two processes finding it together must not
// both end up holding the directory: the lock is written whole and then linked into place (never seen
// half-written), and only the process that creates the break file named after the exact stale lock
// (its inode and contents) may delete it — after checking, holding that file, that it is still there.
// A break file left by a process that died breaking is broken the same way, one level up.
import { createHash, randomUUID } from 'node:crypto';
import { closeSync, existsSync, fstatSync, linkSync, mkdirSync, openSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
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
    return liveOwner(readFileSync(path, 'utf8'));
  } catch {
    return null; // gone meanwhile
  }
}

/** Who a lock's contents name, if that process still holds it (this process counts). */
function liveOwner(text: string): LockInfo | null {
  try {
    const info = JSON.parse(text) as LockInfo;
    if (typeof info.pid === 'number' && (info.pid === process.pid || isAlive(info))) return info;
  } catch {
    // A torn or foreign file: treat as stale; acquireLock takes it over.
  }
  return null;
}

/** How long a start keeps trying while other processes break a stale lock (each break takes microseconds). */
const BREAK_WAIT_MS = 2_000;
/** A break file of another host's process is left behind once this old. */
const REMOTE_BREAK_STALE_MS = 60_000;

/** Takes the directory for this process. Returns false when another live process holds it. */
export function acquireLock(dataDir: string, socketPath: string | null, role?: string): boolean {
  mkdirSync(dataDir, { recursive: true });
  const path = lockPath(dataDir);
  const procStart = processStart('self');
  const info: LockInfo = { pid: process.pid, socketPath, since: new Date().toISOString(), host: hostname(), ...(role ? { role } : {}), ...(procStart ? { procStart } : {}) };
  const deadline = Date.now() + BREAK_WAIT_MS;
  for (let pause = 1; ; pause = Math.min(pause * 2, 20)) {
    if (createWhole(path, JSON.stringify(info))) return true;
    const seen = look(path);
    if (seen !== null) {
      const owner = liveOwner(seen.text);
      if (owner && owner.pid !== process.pid) return false;
      // Stale (its process is gone), or this process's own earlier lock.
      if (removeIfStill(path, seen, 0)) continue;
    }
    if (Date.now() > deadline) return false;
    sleepSync(pause);
  }
}

/** `text` written to a file of its own, then linked at `path`: false when `path` exists. */
function createWhole(path: string, text: string): boolean {
  const tmp = `${path}.${process.pid}-${randomUUID()}.tmp`;
  writeFileSync(tmp, text, { mode: 0o600, flag: 'wx' });
  try {
    linkSync(tmp, path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    rmSync(tmp, { force: true });
  }
}

export interface SeenFile {
  ino: number;
  text: string;
}

/** The file at `path` as it is now (one open file: inode and contents agree), null when there is none. */
function look(path: string): SeenFile | null {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  try {
    return { ino: fstatSync(fd).ino, text: readFileSync(fd, 'utf8') };
  } finally {
    closeSync(fd);
  }
}

/** The break file of the file at `path` as `seen`: one name per inode and contents. */
export function breakFilePath(path: string, seen: SeenFile): string {
  return `${path}.break-${createHash('sha256').update(`${seen.ino}\n${seen.text}`).digest('hex').slice(0, 16)}`;
}

/**
 * Deletes the file at `path` if it is still `seen`. Only the process that creates its break file may:
 * true once done (deleted, or it was no longer that file), false when another process is breaking it.
 */
function removeIfStill(path: string, seen: SeenFile, depth: number): boolean {
  const breakPath = breakFilePath(path, seen);
  const procStart = processStart('self');
  const breaker = JSON.stringify({ pid: process.pid, host: hostname(), since: new Date().toISOString(), token: randomUUID(), ...(procStart ? { procStart } : {}) });
  if (!createWhole(breakPath, breaker)) {
    const other = look(breakPath);
    // Its breaker died breaking (within microseconds of taking it): break that file first.
    if (other !== null && depth < 3 && breakerGone(other.text)) removeIfStill(breakPath, other, depth + 1);
    return false;
  }
  try {
    const now = look(path);
    if (now !== null && now.ino === seen.ino && now.text === seen.text) unlinkSync(path);
  } finally {
    rmSync(breakPath, { force: true });
  }
  return true;
}

function breakerGone(text: string): boolean {
  try {
    const b = JSON.parse(text) as { pid: number; host: string; since: string; procStart?: string };
    if (b.host !== hostname()) return Date.now() - Date.parse(b.since) > REMOTE_BREAK_STALE_MS;
    return b.pid !== process.pid && !pidRunning(b.pid, b.procStart);
  } catch {
    return true; // written whole: never torn by this version
  }
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
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
