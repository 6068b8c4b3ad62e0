// Owns taking a lock file and breaking a stale one, for both locks under DATA_DIR: the embedded
// database's pglite.lock (db/pglite-lock.ts) and the saved kills' kill-pending.json.lock
// (services/kill/pending-kill-lock.ts). Each lock says what its holder record holds and when a lock is
// stale; this file makes sure that two processes finding one stale lock cannot both end up holding it,
// nor put back a lock nobody holds:
//   - a lock is written whole to a file of its own, then linked into place: never seen half-written;
//   - a stale lock is deleted only by the process that creates its break file, named after that exact
//     lock (its inode and contents), and only after checking, holding the break file, that the lock
//     is still that file. Nothing is ever moved aside or put back;
//   - a break file left by a process that died breaking (within microseconds of taking it) is broken
//     the same way, one level up. A breaker elsewhere (another host, another pid namespace) is judged
//     by the break file's age.
// Each step is a system call on a local file. The steps are written once (generators yielding the
// calls) and run either synchronously (the embedded database's lock, taken while a process starts) or
// without blocking (the saved kills' lock: a kill's halt write and cancel run beside it, and a DATA_DIR
// on a slow disk must not stall them); each lock's caller decides how it waits between tries.
import { createHash, randomUUID } from 'node:crypto';
import { closeSync, fstatSync, linkSync, openSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { link, open, stat, unlink, writeFile } from 'node:fs/promises';
import { judgeHolder, thisHolder, type HolderIdentity } from './holder.js';

/** A break file of a breaker elsewhere is broken once this old (a break takes microseconds). */
const BREAKER_ELSEWHERE_STALE_MS = 60_000;

/** A file as one open of it saw it: its inode, contents and modification time agree. */
export interface SeenFile {
  ino: number;
  text: string;
  mtimeMs: number;
}

export type TakeResult =
  /** This process holds the lock now: the file it put there (for releaseIfStill). */
  | { state: 'taken'; mine: Pick<SeenFile, 'ino' | 'text'> }
  /** Another holder has it, not stale: what it wrote. */
  | { state: 'held'; seen: SeenFile }
  /** It was stale and is gone now, or went meanwhile: try again at once. */
  | { state: 'again' }
  /**
   * Stale, and another process is breaking it: try again shortly. `breakPath` is its break file and
   * `breaker` what that file says (null once it went), for the message when it takes too long.
   */
  | { state: 'breaking'; seen: SeenFile; breakPath: string; breaker: string | null };

/** One system call the steps ask for; its answer comes back from the yield. */
type Call =
  | { call: 'write'; path: string; text: string } // a new file (exclusive), 0600
  | { call: 'link'; from: string; to: string } // answers false when `to` exists
  | { call: 'remove'; path: string } // gone whether it was there or not
  | { call: 'look'; path: string } // answers SeenFile | null
  | { call: 'inode'; path: string }; // answers the file's inode number (no opening of it)
type Steps<T> = Generator<Call, T, unknown>;

/**
 * One try at the lock at `path`: created holding `text`, or, when a lock is there and `isStale` says
 * so, that lock broken (the caller tries again).
 */
export function tryTakeSync(path: string, text: string, isStale: (seen: SeenFile) => boolean): TakeResult {
  return runSync(tryTakeSteps(path, text, isStale));
}

/** tryTakeSync without blocking this process on the file system. */
export function tryTake(path: string, text: string, isStale: (seen: SeenFile) => boolean): Promise<TakeResult> {
  return runAsync(tryTakeSteps(path, text, isStale));
}

/** The file at `path` as it is now (one open file), null when there is none. */
export function lookSync(path: string): SeenFile | null {
  return runSync(look(path));
}

/** lookSync without blocking this process on the file system. */
export function lookFile(path: string): Promise<SeenFile | null> {
  return runAsync(look(path));
}

/**
 * Lets go of the lock at `path` that this process put there (`mine`, from 'taken'): deleted only while
 * it is still that file (its inode and contents), holding its break file as a breaker would, so that a
 * lock another process took meanwhile (after breaking this one as stale) is never deleted. True when
 * it is gone or no longer this one; false when another process is breaking it (it goes then).
 */
export function releaseIfStillSync(path: string, mine: Pick<SeenFile, 'ino' | 'text'>): boolean {
  return runSync(releaseSteps(path, mine));
}

/** releaseIfStillSync without blocking this process on the file system. */
export function releaseIfStill(path: string, mine: Pick<SeenFile, 'ino' | 'text'>): Promise<boolean> {
  return runAsync(releaseSteps(path, mine));
}

function* releaseSteps(path: string, mine: Pick<SeenFile, 'ino' | 'text'>): Steps<boolean> {
  return (yield* removeIfStill(path, mine, 0)) === true;
}

function* tryTakeSteps(path: string, text: string, isStale: (seen: SeenFile) => boolean): Steps<TakeResult> {
  const ino = yield* createWhole(path, text);
  if (ino !== null) return { state: 'taken', mine: { ino, text } };
  const seen = yield* look(path);
  if (seen === null) return { state: 'again' };
  if (!isStale(seen)) return { state: 'held', seen };
  const removed = yield* removeIfStill(path, seen, 0);
  return removed === true ? { state: 'again' } : { state: 'breaking', seen, ...removed };
}

/**
 * `text` written to a file of its own, then linked at `path`: its inode, or null when `path` exists.
 * The file of its own goes whatever fails (a full disk fails the write after creating it).
 */
function* createWhole(path: string, text: string): Steps<number | null> {
  const tmp = `${path}.${process.pid}-${randomUUID()}.tmp`;
  try {
    yield { call: 'write', path: tmp, text };
    const ino = (yield { call: 'inode', path: tmp }) as number;
    return ((yield { call: 'link', from: tmp, to: path }) as boolean) ? ino : null;
  } finally {
    yield { call: 'remove', path: tmp };
  }
}

function* look(path: string): Steps<SeenFile | null> {
  return (yield { call: 'look', path }) as SeenFile | null;
}

/** The break file of the file at `path` as `seen`: one name per inode and contents. */
export function breakFilePath(path: string, seen: Pick<SeenFile, 'ino' | 'text'>): string {
  return `${path}.break-${createHash('sha256').update(`${seen.ino}\n${seen.text}`).digest('hex').slice(0, 16)}`;
}

/**
 * Deletes the file at `path` if it is still `seen`. Only the process that creates its break file may:
 * true once done (deleted, or it was no longer that file), false when another process is breaking it.
 */
function* removeIfStill(path: string, seen: Pick<SeenFile, 'ino' | 'text'>, depth: number): Steps<true | { breakPath: string; breaker: string | null }> {
  const breakPath = breakFilePath(path, seen);
  const breaker = JSON.stringify({ ...thisHolder(), since: new Date().toISOString(), token: randomUUID() });
  if ((yield* createWhole(breakPath, breaker)) === null) {
    const other = yield* look(breakPath);
    // Its breaker died breaking: break that file first.
    if (other !== null && depth < 3 && breakerGone(other.text)) yield* removeIfStill(breakPath, other, depth + 1);
    return { breakPath, breaker: other?.text ?? null };
  }
  try {
    const now = yield* look(path);
    if (now !== null && now.ino === seen.ino && now.text === seen.text) yield { call: 'remove', path };
  } finally {
    yield { call: 'remove', path: breakPath };
  }
  return true;
}

/** What a break file says of its breaker; null when it names none. */
export function parseBreaker(text: string): (HolderIdentity & { since: string }) | null {
  try {
    const b = JSON.parse(text) as HolderIdentity & { since: string; procStart?: string };
    if (typeof b.pid !== 'number') return null;
    // An older version recorded the start time as procStart.
    const start = b.start ?? b.procStart;
    return { ...b, ...(start === undefined ? {} : { start }) };
  } catch {
    return null;
  }
}

function breakerGone(text: string): boolean {
  const b = parseBreaker(text);
  if (b === null) return true; // written whole: never torn
  switch (judgeHolder(b)) {
    case 'elsewhere': return Date.now() - Date.parse(b.since) > BREAKER_ELSEWHERE_STALE_MS;
    case 'gone': return true;
    default: return false;
  }
}

function runSync<T>(steps: Steps<T>): T {
  for (let next = steps.next(); ;) {
    if (next.done) return next.value;
    let answer: unknown;
    try {
      answer = callSync(next.value);
    } catch (err) {
      next = steps.throw(err);
      continue;
    }
    next = steps.next(answer);
  }
}

async function runAsync<T>(steps: Steps<T>): Promise<T> {
  for (let next = steps.next(); ;) {
    if (next.done) return next.value;
    let answer: unknown;
    try {
      answer = await callAsync(next.value);
    } catch (err) {
      next = steps.throw(err);
      continue;
    }
    next = steps.next(answer);
  }
}

function callSync(c: Call): unknown {
  switch (c.call) {
    case 'write': return writeFileSync(c.path, c.text, { mode: 0o600, flag: 'wx' });
    case 'link': return existsFails(() => linkSync(c.from, c.to));
    case 'remove': return goneIsFine(() => unlinkSync(c.path));
    case 'inode': return statSync(c.path).ino;
    case 'look': {
      let fd: number;
      try {
        fd = openSync(c.path, 'r');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw err;
      }
      try {
        const stat = fstatSync(fd);
        return { ino: stat.ino, text: readFileSync(fd, 'utf8'), mtimeMs: stat.mtimeMs } satisfies SeenFile;
      } finally {
        closeSync(fd);
      }
    }
  }
}

async function callAsync(c: Call): Promise<unknown> {
  switch (c.call) {
    case 'write': return writeFile(c.path, c.text, { mode: 0o600, flag: 'wx' });
    case 'link': return existsFails(() => link(c.from, c.to));
    case 'remove': return goneIsFine(() => unlink(c.path));
    case 'inode': return (await stat(c.path)).ino;
    case 'look': {
      let file;
      try {
        file = await open(c.path, 'r');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw err;
      }
      try {
        const stat = await file.stat();
        return { ino: stat.ino, text: await file.readFile('utf8'), mtimeMs: stat.mtimeMs } satisfies SeenFile;
      } finally {
        await file.close();
      }
    }
  }
}

/** true once `make` made it, false when it exists (EEXIST); a promise of that for a promise. */
function existsFails(make: () => void): boolean;
function existsFails(make: () => Promise<void>): Promise<boolean>;
function existsFails(make: () => void | Promise<void>): boolean | Promise<boolean> {
  const exists = (err: unknown) => {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  };
  try {
    const made = make();
    return made instanceof Promise ? made.then(() => true, exists) : true;
  } catch (err) {
    return exists(err);
  }
}

/** Removes, a file already gone counting as removed. */
function goneIsFine(remove: () => void | Promise<void>): void | Promise<void> {
  const gone = (err: unknown) => {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  };
  try {
    const removed = remove();
    return removed instanceof Promise ? removed.catch(gone) : undefined;
  } catch (err) {
    gone(err);
  }
}
