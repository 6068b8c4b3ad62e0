// Owns the guard on the embedded database directory. Two processes opening one PGlite directory
// lose data silently, so the first process takes DATA_DIR/pglite.lock (pid + socket path) and
// serves the database over a local socket; every later process connects through that socket.
//
// A lock left by a process that is gone is taken over; two processes finding it together must not both
// end up holding the directory (fs-lock/break-file-lock.ts). A holder in another pid namespace on this
// host (a container beside this one sharing its host name and DATA_DIR) cannot be judged by its pid,
// and this lock has no age rule (a bot holds it for as long as it runs): it is held until removed.
import { ensureDataDir } from '../config/data-dir.js';
import { join } from 'node:path';
import { AppError } from '../errors.js';
import { lookSync, parseBreaker, releaseIfStillSync, tryTakeSync, type SeenFile } from '../fs-lock/break-file-lock.js';
import { describeHolder, inAnotherPidNamespace, judgeHolder, thisHolder } from '../fs-lock/holder.js';

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
  /** Where its pid means something (fs-lock/holder.ts); absent off Linux and in locks written by older versions. */
  scope?: string;
}

/** "pid 1234 on host h (ctb start --role all) since 2026-…": names the holder for people. */
export function describeLockOwner(info: LockInfo): string {
  const what = info.role ? `ctb start --role ${info.role}` : 'a ctb command';
  return `${describeHolder(info)} (${what}) since ${info.since}`;
}

/** Whether the lock is this very process's (its pid in this pid namespace, not another's pid 1). */
export function isOwnLock(info: LockInfo): boolean {
  return judgeHolder(asHolder(info)) === 'self';
}

/** Whether the holder ran on this machine in another pid namespace (a container), where its pid cannot be checked. */
export function heldFromAnotherPidNamespace(info: LockInfo): boolean {
  return inAnotherPidNamespace(asHolder(info));
}

function asHolder(info: LockInfo) {
  return { host: info.host, pid: info.pid, start: info.procStart, scope: info.scope };
}

export function lockPath(dataDir: string): string {
  return join(dataDir, 'pglite.lock');
}

/** The current owner, or null when nobody (alive) holds the directory. */
export function readLock(dataDir: string): LockInfo | null {
  let seen;
  try {
    seen = lookSync(lockPath(dataDir));
  } catch {
    return null; // unreadable (DATA_DIR not a directory, say): acquireLock says why
  }
  return seen === null ? null : liveOwner(seen.text);
}

/** Who a lock's contents name, if that process still holds it (this process counts; so does one elsewhere). */
function liveOwner(text: string): LockInfo | null {
  try {
    const info = JSON.parse(text) as LockInfo;
    if (typeof info.pid === 'number' && judgeHolder(asHolder(info)) !== 'gone') return info;
  } catch {
    // A torn or foreign file: treat as stale; acquireLock takes it over.
  }
  return null;
}

/** How long a start keeps trying while other processes break a stale lock (each break takes microseconds). */
const BREAK_WAIT_MS = 2_000;

/** The lock file this process put in place, per lock path: what releaseLock deletes, and nothing else. */
const heldHere = new Map<string, Pick<SeenFile, 'ino' | 'text'>>();

/**
 * Takes the directory for this process. Returns false when another live process holds it; throws
 * when a stale lock stays stuck while another process (its break file's) is breaking it.
 */
export function acquireLock(dataDir: string, socketPath: string | null, role?: string): boolean {
  // A DATA_DIR that cannot be made or written is a configuration error (exit 2), said as such.
  ensureDataDir(dataDir);
  const path = lockPath(dataDir);
  const me = thisHolder();
  const info: LockInfo = {
    pid: me.pid, socketPath, since: new Date().toISOString(), host: me.host, ...(role ? { role } : {}), ...(me.start ? { procStart: me.start } : {}), ...(me.scope ? { scope: me.scope } : {}),
  };
  // Stale: its process is gone, or it is this process's own earlier lock.
  const stale = (seen: { text: string }) => {
    const owner = liveOwner(seen.text);
    return owner === null || isOwnLock(owner);
  };
  const deadline = Date.now() + BREAK_WAIT_MS;
  for (let pause = 1; ; pause = Math.min(pause * 2, 20)) {
    const tried = tryTakeSync(path, JSON.stringify(info), stale);
    if (tried.state === 'taken') {
      heldHere.set(path, tried.mine);
      return true;
    }
    if (tried.state === 'held') return false;
    if (tried.state === 'again') continue;
    if (Date.now() > deadline) throw stuckBreaking(path, tried.breakPath, tried.breaker);
    sleepSync(pause);
  }
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** A stale lock whose break file names a breaker judged still running: say which files, and what to do. */
function stuckBreaking(path: string, breakPath: string, breakerText: string | null): AppError {
  const b = breakerText === null ? null : parseBreaker(breakerText);
  const breaker = b !== null ? `${describeHolder(b)} since ${b.since}` : breakerText === null ? 'a process whose break file went meanwhile' : 'a process that has not written it';
  return new AppError('conflict', 'pglite_lock_breaking', `The embedded database's lock ${path} names a process that is gone, and its break file ${breakPath} says ${breaker} is removing it, which has not finished in ${BREAK_WAIT_MS / 1000} s.`, {
    hint: `Removing a lock takes microseconds: if that process is not running, remove both files (rm ${breakPath} ${path}) and run the command again.`,
  });
}

/** Lets the directory go: deletes the lock only while it is still the one this process put there. */
export function releaseLock(dataDir: string): void {
  const path = lockPath(dataDir);
  const mine = heldHere.get(path);
  if (mine === undefined) return;
  heldHere.delete(path);
  releaseIfStillSync(path, mine);
}

/**
 * A second bot on one embedded database would connect through the first one's socket and trade
 * beside it (every socket client shares one session: nothing there can keep them apart). The bot
 * that serves the directory is the only engine on it: a second `ctb start` is refused, naming it.
 */
export function refuseSecondBot(dataDir: string, owner: LockInfo | null): void {
  if (!owner || isOwnLock(owner)) return;
  // A state that refuses the start (README: exit 1), not a configuration error: it passes once that bot stops.
  throw new AppError('conflict', 'data_dir_in_use', `DATA_DIR ${dataDir} is already in use by ${describeLockOwner(owner)}: one bot per embedded database.`, {
    hint: inAnotherPidNamespace(asHolder(owner))
      // Its pid cannot be checked from here (a container beside this one, or this one before a restart).
      ? `That process runs in another pid namespace on this machine, where this one cannot see whether it still runs: stop it there, or, if nothing runs there, remove ${lockPath(dataDir)}.`
      : owner.role
      ? 'Stop that bot first, or use ctb commands beside it (ctb stats, ctb kill, ctb mode status); for several processes use PostgreSQL (DATABASE_URL).'
      : 'Wait for that command to finish, then start the bot.',
  });
}
