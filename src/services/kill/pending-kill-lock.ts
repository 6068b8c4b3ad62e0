// Owns the lock that makes each change to DATA_DIR/kill-pending.json one step across processes. A
// change reads the whole file, changes one entry and replaces the file: two processes doing so at once
// (a shell's kill saving its entry while a bot's replay drops a written one, two shells' kills) each
// wrote back what they had read — a saved kill lost, or a dropped one back. The lock is the file
// kill-pending.json.lock naming its holder: host, pid, when that process started (a later process
// given its pid is not it), its pid scope, a token (fs-lock/holder.ts). A holder gone from this host
// left it stale. A holder elsewhere — on another host (a DATA_DIR on a shared volume), or in another
// pid namespace on this one (a container beside this one, whose pids mean nothing here) — cannot be
// judged from here: its lock is stale once older than ELSEWHERE_STALE_MS, far beyond one change. A
// writer waits WAIT_MS at most, then fails naming the holder (a kill then writes the database all the
// same, and says its entry could not be saved). Taking the lock and breaking a stale one
// (fs-lock/break-file-lock.ts) are a few asynchronous file calls, and the wait between tries a timer:
// the kill's halt write and cancel never wait on this lock.
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseBreaker, releaseIfStill, tryTake, type SeenFile } from '../../fs-lock/break-file-lock.js';
import { describeHolder, judgeHolder, thisHolder, type HolderIdentity } from '../../fs-lock/holder.js';

/** The longest a change waits for another process's: a change takes milliseconds (two fsyncs). */
const WAIT_MS = 5_000;
/** A lock of a process elsewhere (another host, another pid namespace) counts as held this long. */
const ELSEWHERE_STALE_MS = 60_000;
/** A lock that names nobody (an older version's, created and not yet written): held this long. */
const UNWRITTEN_STALE_MS = 5_000;

interface Holder extends HolderIdentity {
  since: string;
  token: string;
}

/** Tokens of the locks this thread holds now (a lock naming this pid and none of these is stale). */
const heldHere = new Set<string>();

export function pendingKillLockPath(dataDir: string): string {
  return join(dataDir, 'kill-pending.json.lock');
}

/** Runs `change` holding the lock on `dataDir`'s saved kills; the lock goes when it settles. */
export async function withPendingKillLock<T>(dataDir: string, change: () => Promise<T>): Promise<T> {
  const path = pendingKillLockPath(dataDir);
  const { token, mine } = await acquire(path);
  try {
    return await change();
  } finally {
    heldHere.delete(token);
    // Only while it is still the file this change put there: a change that outlived the age rule may
    // have been broken, and another process's lock be in its place.
    await releaseIfStill(path, mine).catch(() => false);
  }
}

async function acquire(path: string): Promise<{ token: string; mine: Pick<SeenFile, 'ino' | 'text'> }> {
  const holder: Holder = { ...thisHolder(), since: new Date().toISOString(), token: randomUUID() };
  const text = JSON.stringify(holder);
  const deadline = Date.now() + WAIT_MS;
  for (let pause = 1; ; pause = Math.min(pause * 2, 50)) {
    // Counted as this thread's before it is in place (a change of this thread running meanwhile must
    // not take it for one left behind).
    heldHere.add(holder.token);
    const tried = await tryTake(path, text, isStale);
    if (tried.state === 'taken') return { token: holder.token, mine: tried.mine };
    heldHere.delete(holder.token);
    if (tried.state === 'again') continue;
    // Held, or being broken by a process that has not finished in all that time.
    if (Date.now() > deadline) {
      const h = parseHolder(tried.seen.text);
      const holderWords = h ? `${describeHolder(h)} since ${h.since}` : 'a process that has not written it';
      const waited = `the saved kills were not changed (waited ${WAIT_MS / 1000} s)`;
      if (tried.state === 'held') throw new Error(`${path} is held by ${holderWords}: ${waited}. Remove the lock file only if that process is not running.`);
      // Stale (its holder gone), and another process has been breaking it all this time.
      const b = tried.breaker === null ? null : parseBreaker(tried.breaker);
      const breaker = b ? `${describeHolder(b)} since ${b.since}` : tried.breaker === null ? 'a process whose break file went meanwhile' : 'a process that has not written it';
      throw new Error(`${path} names ${holderWords}, no longer holding it, and is being removed by ${breaker} (${tried.breakPath}), which has not finished: `
        + `${waited}. Remove both files only if that process is not running.`);
    }
    await sleep(pause);
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

function isStale(seen: SeenFile): boolean {
  const h = parseHolder(seen.text);
  if (h === null) return Date.now() - seen.mtimeMs > UNWRITTEN_STALE_MS;
  switch (judgeHolder(h)) {
    case 'elsewhere': return Date.now() - Date.parse(h.since) > ELSEWHERE_STALE_MS;
    case 'self': return !heldHere.has(h.token);
    case 'running': return false;
    case 'gone': return true;
  }
}
