// Owns the lock that makes each change to DATA_DIR/kill-pending.json one step across processes. A
// change reads the whole file, changes one entry and replaces the file: two processes doing so at once
// (a shell's kill saving its entry while a bot's replay drops a written one, two shells' kills) each
// wrote back what they had read — a saved kill lost, or a dropped one back. The lock is the file
// kill-pending.json.lock, created exclusively (O_EXCL) and naming its holder: host, pid, when that
// process started (process-liveness.ts tells a later process given its pid), a token. A holder gone
// from this host left it stale: the next writer moves it aside and takes the lock. A holder on another
// host (a DATA_DIR on a shared volume) cannot be judged from here: its lock is stale once older than
// REMOTE_STALE_MS, far beyond one change. A writer waits WAIT_MS at most, then fails naming the holder
// (a kill then writes the database all the same, and says its entry could not be saved).
//
// Two writers finding one stale lock at once: each moves aside only the lock it judged (the token, or
// for a lock not yet written its inode and time, is checked once it is aside), and puts back one it
// moved that was taken meanwhile. Only a third writer taking the lock in that instant too gets past it.
import { randomUUID } from 'node:crypto';
import { link, open, rename, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pidRunning, processStart } from '../../process-liveness.js';

/** The longest a change waits for another process's: a change takes milliseconds (two fsyncs). */
const WAIT_MS = 5_000;
/** A lock of another host's process counts as held this long. */
const REMOTE_STALE_MS = 60_000;
/** A lock created and not yet written (its writer writes it at once): held this long. */
const UNWRITTEN_STALE_MS = 5_000;

interface Holder {
  host: string;
  pid: number;
  /** processStart of the holder, where the system says it. */
  start?: string;
  since: string;
  token: string;
}

interface SeenLock {
  holder: Holder | null;
  ino: number;
  mtimeMs: number;
}

/** Tokens of the locks this thread holds now (a lock naming this pid and none of these is stale). */
const heldHere = new Set<string>();

export function pendingKillLockPath(dataDir: string): string {
  return join(dataDir, 'kill-pending.json.lock');
}

/** Runs `change` holding the lock on `dataDir`'s saved kills; the lock goes when it settles. */
export async function withPendingKillLock<T>(dataDir: string, change: () => Promise<T>): Promise<T> {
  const path = pendingKillLockPath(dataDir);
  const token = await acquire(path);
  try {
    return await change();
  } finally {
    heldHere.delete(token);
    const seen = await inspect(path).catch(() => null);
    if (seen?.holder?.token === token) await rm(path, { force: true });
  }
}

async function acquire(path: string): Promise<string> {
  const start = processStart('self');
  const holder: Holder = { host: hostname(), pid: process.pid, ...(start ? { start } : {}), since: new Date().toISOString(), token: randomUUID() };
  const deadline = Date.now() + WAIT_MS;
  for (let pause = 1; ; pause = Math.min(pause * 2, 50)) {
    if (await create(path, holder)) return holder.token;
    const seen = await inspect(path);
    if (seen === null) continue;
    if (isStale(seen)) {
      await breakStale(path, seen);
      continue;
    }
    if (Date.now() > deadline) {
      throw new Error(`${path} is held by ${seen.holder ? `pid ${seen.holder.pid} on host ${seen.holder.host} since ${seen.holder.since}` : 'a process that has not written it'}: `
        + `the saved kills were not changed (waited ${WAIT_MS / 1000} s). Remove the lock file only if that process is not running.`);
    }
    await sleep(pause);
  }
}

/** Creates the lock naming `holder`; false when it exists. */
async function create(path: string, holder: Holder): Promise<boolean> {
  let file;
  try {
    file = await open(path, 'wx', 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  heldHere.add(holder.token);
  try {
    await file.writeFile(JSON.stringify(holder));
    await file.close();
    return true;
  } catch (err) {
    heldHere.delete(holder.token);
    await file.close().catch(() => undefined);
    await rm(path, { force: true });
    throw err;
  }
}

/** The lock as it is now (one open file: its contents and its inode agree), null when there is none. */
async function inspect(path: string): Promise<SeenLock | null> {
  let file;
  try {
    file = await open(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  try {
    const stat = await file.stat();
    return { holder: parseHolder(await file.readFile('utf8')), ino: stat.ino, mtimeMs: stat.mtimeMs };
  } finally {
    await file.close();
  }
}

function parseHolder(text: string): Holder | null {
  try {
    const h = JSON.parse(text) as Partial<Holder>;
    return typeof h.host === 'string' && typeof h.pid === 'number' && typeof h.since === 'string' && typeof h.token === 'string' ? (h as Holder) : null;
  } catch {
    return null;
  }
}

function isStale(seen: SeenLock): boolean {
  const h = seen.holder;
  if (h === null) return Date.now() - seen.mtimeMs > UNWRITTEN_STALE_MS;
  if (h.host !== hostname()) return Date.now() - Date.parse(h.since) > REMOTE_STALE_MS;
  if (h.pid === process.pid) return !heldHere.has(h.token);
  return !pidRunning(h.pid, h.start);
}

/** Moves the stale lock aside and deletes it; one taken meanwhile (not the one judged) is put back. */
async function breakStale(path: string, seen: SeenLock): Promise<void> {
  const aside = `${path}.stale-${process.pid}-${randomUUID()}`;
  try {
    await rename(path, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  const moved = await inspect(aside);
  const same = moved !== null && (seen.holder
    ? moved.holder?.token === seen.holder.token
    : moved.holder === null && moved.ino === seen.ino && moved.mtimeMs === seen.mtimeMs);
  if (!same) {
    // A live writer's lock: back in place unless yet another writer took the lock since.
    await link(aside, path).catch(() => undefined);
  }
  await rm(aside, { force: true });
}

