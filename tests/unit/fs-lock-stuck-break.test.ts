// A stale lock whose break file names a breaker still judged running cannot be taken: every start and
// command waits, then must say which lock, which break file, who the breaker is and what to do — not
// "in use by pid 0". A break file of an older version records the start time as procStart, and a
// process of this pid with another start time (an earlier container's pid 1) is not this process.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/client.js';
import { acquireLock, lockPath, readLock, releaseLock } from '../../src/db/pglite-lock.js';
import { breakFilePath } from '../../src/fs-lock/break-file-lock.js';
import { judgeHolder } from '../../src/fs-lock/holder.js';
import { pidScope, processStart } from '../../src/process-liveness.js';
import { pendingKillLockPath, withPendingKillLock } from '../../src/services/kill/pending-kill-lock.js';

const here = pidScope();
const deadPid = () => Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout);
const dataDir = () => mkdtempSync(join(tmpdir(), 'ctb-lock-stuck-'));
const parentStart = () => processStart(process.ppid)!;

/** A stale lock at `path` (its holder gone) and a break file for it naming `breaker`. */
function staleWithBreakFile(path: string, lockText: string, breaker: Record<string, unknown>): string {
  writeFileSync(path, lockText);
  const breakPath = breakFilePath(path, { ino: statSync(path).ino, text: lockText });
  writeFileSync(breakPath, JSON.stringify({ host: hostname(), since: '2026-12-07T00:00:00.000Z', token: 'x', ...breaker }));
  return breakPath;
}
const pgliteLock = (pid: number) => JSON.stringify({ pid, socketPath: null, since: '2026-12-07T00:00:00.000Z', host: hostname(), role: 'all' });

describe.runIf(here !== null)('a stale lock with a break file', () => {
  it("an older version's break file (procStart) whose pid is now another process's is broken: the lock is taken", () => {
    const dir = dataDir();
    staleWithBreakFile(lockPath(dir), pgliteLock(deadPid()), { pid: process.ppid, procStart: String(Number(parentStart()) - 1) });
    expect(acquireLock(dir, null, 'all')).toBe(true);
    expect(readdirSync(dir)).toEqual(['pglite.lock']);
    releaseLock(dir);
  });

  it('a breaker still running: the start fails naming the lock, the break file and the breaker, and what to do', () => {
    const dir = dataDir();
    const breakPath = staleWithBreakFile(lockPath(dir), pgliteLock(deadPid()), { pid: process.ppid, procStart: parentStart() });
    expect(() => acquireLock(dir, null, 'all')).toThrow(expect.objectContaining({
      message: expect.stringMatching(new RegExp(`${lockPath(dir)}.*break file ${breakPath} says pid ${process.ppid} on host`)),
      hint: `Removing a lock takes microseconds: if that process is not running, remove both files (rm ${breakPath} ${lockPath(dir)}) and run the command again.`,
    }));
  });

  it('a one-shot command meeting it says the same, not "pid 0"', async () => {
    const dir = dataDir();
    const breakPath = staleWithBreakFile(lockPath(dir), pgliteLock(deadPid()), { pid: process.ppid });
    await expect(openDatabase({ dataDir: dir, oneShot: true })).rejects.toThrow(`break file ${breakPath} says pid ${process.ppid}`);
  });

  it('the saved kills\' lock being broken too long says so, naming the breaker, not "held by" its gone holder', async () => {
    const dir = dataDir();
    const dead = deadPid();
    const breakPath = staleWithBreakFile(pendingKillLockPath(dir), JSON.stringify({ host: hostname(), pid: dead, since: '2026-12-07T00:00:00.000Z', token: 'left' }), { pid: process.ppid });
    const failed = await withPendingKillLock(dir, async () => 'changed').catch((err: Error) => err.message);
    expect(failed).toContain(`is being removed by pid ${process.ppid} on host ${hostname()} since 2026-12-07T00:00:00.000Z (${breakPath})`);
    expect(failed).not.toContain('is held by');
  }, 20_000);
});

describe.runIf(here !== null)('a recorded holder with this process\'s pid', () => {
  it('is this process only when its start time, where recorded, is this process\'s', () => {
    const me = processStart('self')!;
    expect(judgeHolder({ host: hostname(), pid: process.pid, start: me, scope: here! })).toBe('self');
    expect(judgeHolder({ host: hostname(), pid: process.pid, scope: here! })).toBe('self');
    // An earlier process given this pid (a container's pid 1 before its restart): gone.
    expect(judgeHolder({ host: hostname(), pid: process.pid, start: String(Number(me) - 1), scope: here! })).toBe('gone');
    // So its pglite.lock is not this process's: read as nobody's, and taken over.
    const dir = dataDir();
    writeFileSync(lockPath(dir), JSON.stringify({ pid: process.pid, socketPath: null, since: '2026-12-07T00:00:00.000Z', host: hostname(), procStart: String(Number(me) - 1), scope: here }));
    expect(readLock(dir)).toBeNull();
  });
});

describe.runIf(here !== null)('a one-shot command meeting pglite.lock held from another pid namespace', () => {
  it('says it is held from another pid namespace and how to clear it if nothing runs there', async () => {
    const dir = dataDir();
    const boot = here!.slice(0, here!.indexOf('/'));
    writeFileSync(lockPath(dir), JSON.stringify({ pid: 12, socketPath: null, since: '2026-12-07T00:00:00.000Z', host: hostname(), role: 'all', scope: `${boot}/pid:[1]` }));
    await expect(openDatabase({ dataDir: dir, oneShot: true })).rejects.toThrow(expect.objectContaining({
      message: expect.stringContaining('held from another pid namespace'),
      hint: expect.stringContaining(`if nothing runs there, remove ${lockPath(dir)}`),
    }));
  });
});
