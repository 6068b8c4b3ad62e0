// Owns the durable record of a kill the database has not taken yet: DATA_DIR/kill-pending.json.
// Every kill writes its entry at its very start (fsynced, before any database access) and drops it
// once the database holds the halt; a kill the database could not take stays, so the halt is
// written when the database returns (replayed at start, by the halt watcher and by the watchdog),
// and a restart in between starts halted. Written atomically (temp file, fsync, rename, directory
// fsync), each change under a lock across processes (pending-kill-lock.ts): read, changed, replaced
// as one step, so no process writes back a copy another has changed since it read it. An entry
// whose kill is still running in a live process names that process (`owner`): others latch the
// halt it stands for but leave writing it to that process.
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { withPendingKillLock } from './pending-kill-lock.js';

export const pendingKillSchema = z.object({
  killId: z.string().min(1),
  at: z.string(),
  actor: z.string(),
  actorSource: z.enum(['slack', 'cli', 'http', 'system']),
  trigger: z.enum(['manual', 'auto']),
  reason: z.string(),
  cancelReport: z.record(z.string(), z.unknown()),
  /**
   * What the database did when the kill could not write the halt (configProblem: it cannot be used as
   * configured, else it did not answer). Absent when the kill ended before the database answered.
   */
  database: z.object({ error: z.string(), configProblem: z.boolean() }).optional(),
  /**
   * The kill cancelled on Kraken itself and could not confirm zero open orders there: once the halt
   * is written, the replay hands the cancel on as the follow-up request a kill writes (the database
   * could not take it when the kill answered).
   */
  krakenFollowUp: z.boolean().optional(),
  /**
   * The database the kill was aimed at (kill-target.ts: host, port and name, or the embedded
   * directory; never a secret): only a process on that database writes it. Absent in entries saved
   * by older versions: any process writes those.
   */
  target: z.string().optional(),
  /**
   * The identity of that database's server (database-identity.ts), when the process that killed had
   * learned it before: a replay on a server that says the same writes the kill whatever name its
   * configuration gives it, and one on another server does not, whatever the name.
   */
  server: z.object({ systemIdentifier: z.string(), database: z.string() }).optional(),
  /** The process whose kill is still writing this entry, and until when it counts as doing so. */
  owner: z.object({ host: z.string(), pid: z.number().int(), until: z.string() }).optional(),
});
export type PendingKill = z.infer<typeof pendingKillSchema>;

const fileSchema = z.object({ kills: z.array(pendingKillSchema) });

/** How the kill id of a pending-kill file that cannot be read begins (the file is taken as a kill, to be safe). */
export const UNREADABLE_PENDING_KILL = 'damaged-pending-file';

/** Whether the kill id stands for a pending-kill file that could not be read. */
export function isUnreadablePendingKill(killId: string): boolean {
  return killId === UNREADABLE_PENDING_KILL || killId.startsWith(`${UNREADABLE_PENDING_KILL}:`);
}

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
    const damaged = damagedFileKill(path);
    return [{ killId: damaged.killId, at: damaged.at.toISOString(), actor: 'unknown', actorSource: 'system', trigger: 'manual',
      reason: `unreadable ${path}: halted to be safe`, cancelReport: {} }];
  }
}

/**
 * The kill a damaged file stands for: its id names the file's bytes and when it was last written, so
 * each damaged file is a kill of its own (its own halt, incident and alert; one id for all of them
 * would make every later one find the first's incident and write no halt), while every read of one
 * file gives the same id (written once, dropped once). Made when the file was last written.
 */
function damagedFileKill(path: string): { killId: string; at: Date } {
  try {
    const mtime = statSync(path).mtime;
    const digest = createHash('sha256').update(readFileSync(path)).digest('hex').slice(0, 16);
    return { killId: `${UNREADABLE_PENDING_KILL}:${digest}:${mtime.getTime()}`, at: mtime };
  } catch {
    // Gone or unreadable as bytes too: a kill of its own all the same.
    return { killId: `${UNREADABLE_PENDING_KILL}:${randomUUID()}`, at: new Date() };
  }
}

/** Saves a kill whole (replacing one with its id), as the kill's own writes below do. */
export function addPendingKill(dataDir: string, kill: PendingKill): Promise<void> {
  return changeKills(dataDir, (kills) => [...kills.filter((k) => k.killId !== kill.killId), kill]);
}

/** Drops the kills now written to the database; removes the file when none is left. */
export function removePendingKills(dataDir: string, killIds: string[]): Promise<void> {
  return changeKills(dataDir, (kills) => kills.filter((k) => !killIds.includes(k.killId)));
}

// ---- The kill's own entry: written at its start, dropped once the database has the halt. ----

/** Kill ids this process is writing right now: its own halt watcher leaves them to the kill. */
const inFlight = new Set<string>();
let queue: Promise<unknown> = Promise.resolve();

/**
 * One write at a time in this process, and across processes under the file's lock
 * (pending-kill-lock.ts): each is a read-modify-replace of the whole file.
 */
function serialised<T>(fn: () => Promise<T>): Promise<T> {
  const run = queue.then(fn, fn);
  queue = run.catch(() => undefined);
  return run;
}

async function readKillsAsync(path: string): Promise<PendingKill[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  try {
    return fileSchema.parse(JSON.parse(text)).kills;
  } catch {
    return readPendingKills(dirname(path));
  }
}

/** Temp file, fsync, rename, fsync of the directory: on disk when this resolves. Off the event loop. */
async function writeDurably(path: string, text: string): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  const file = await open(tmp, 'w', 0o600);
  try {
    await file.writeFile(text);
    await file.sync();
  } finally {
    await file.close();
  }
  await rename(tmp, path);
  const dir = await open(dirname(path), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

/**
 * Saves a running kill's entry (owned by this process until `ownedForMs` from now) and resolves once
 * it is fsynced. The event loop is not blocked meanwhile: the kill's exchange calls keep leaving.
 */
export function saveRunningKill(dataDir: string, kill: Omit<PendingKill, 'owner'>, ownedForMs: number): Promise<void> {
  inFlight.add(kill.killId);
  const owned: PendingKill = { ...kill, owner: { host: hostname(), pid: process.pid, until: new Date(Date.now() + ownedForMs).toISOString() } };
  return replaceEntry(dataDir, kill.killId, owned);
}

/** The kill could not write the halt: its entry stays, now for anyone to replay (no owner). */
export function releaseRunningKill(dataDir: string, kill: Omit<PendingKill, 'owner'>): Promise<void> {
  return replaceEntry(dataDir, kill.killId, kill).finally(() => inFlight.delete(kill.killId));
}

/** The database holds the kill's halt: its entry goes. */
export function dropRunningKill(dataDir: string, killId: string): Promise<void> {
  return replaceEntry(dataDir, killId, null).finally(() => inFlight.delete(killId));
}

/** An operator dropped the saved kill (discard-saved-kill.ts): its entry goes, nothing is written. */
export function discardPendingKill(dataDir: string, killId: string): Promise<void> {
  return replaceEntry(dataDir, killId, null);
}

function replaceEntry(dataDir: string, killId: string, entry: PendingKill | null): Promise<void> {
  return changeKills(dataDir, (kills) => {
    const others = kills.filter((k) => k.killId !== killId);
    return entry ? [...others, entry] : others;
  });
}

/** Reads the saved kills, changes them and writes them back (or removes the file when none is left), as one step. */
function changeKills(dataDir: string, change: (kills: PendingKill[]) => PendingKill[]): Promise<void> {
  return serialised(async () => {
    const path = pendingKillPath(dataDir);
    await mkdir(dataDir, { recursive: true });
    await withPendingKillLock(dataDir, async () => {
      const kills = change(await readKillsAsync(path));
      if (kills.length === 0) await rm(path, { force: true });
      else await writeDurably(path, `${JSON.stringify({ kills }, null, 2)}\n`);
    });
  });
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Whether a saved kill is still being written by the kill that saved it (this process's, or a live
 * process's on this host, within its time): a replay then leaves it alone, so the kill's reply is its
 * own and the incident is not announced twice. Anything else — an entry without owner, a dead or
 * remote owner, an owner past its time — is for the replay to write.
 */
export function writtenByItsKill(kill: PendingKill, now = Date.now()): boolean {
  if (!kill.owner || Date.parse(kill.owner.until) < now) return false;
  if (kill.owner.pid === process.pid && kill.owner.host === hostname()) return inFlight.has(kill.killId);
  return kill.owner.host === hostname() && processAlive(kill.owner.pid);
}
