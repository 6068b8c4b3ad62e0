// A lock under DATA_DIR names its holder by pid, and a pid means something only in the pid namespace
// it was taken in: two containers on one kernel may share a host name and a DATA_DIR, each with its own
// pid 1. A holder from another pid namespace is never judged by a pid here: the embedded database's
// lock stays held (it has no age rule), the saved kills' lock is held until its age rule says stale.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { acquireLock, lockPath, readLock, refuseSecondBot, releaseLock } from '../../src/db/pglite-lock.js';
import { judgeHolder } from '../../src/fs-lock/holder.js';
import { pidScope } from '../../src/process-liveness.js';
import { pendingKillLockPath, withPendingKillLock } from '../../src/services/kill/pending-kill-lock.js';

const here = pidScope();
const boot = here?.slice(0, here.indexOf('/')) ?? '';
/** This kernel, another pid namespace than this process's. */
const otherNamespace = `${boot}/pid:[1]`;
const deadPid = () => Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout);
const dataDir = () => mkdtempSync(join(tmpdir(), 'ctb-lock-namespace-'));
const pgliteLockOf = (pid: number, scope: string) => JSON.stringify({ pid, socketPath: null, since: '2026-12-07T00:00:00.000Z', host: hostname(), role: 'all', scope });

describe.runIf(here !== null)('a lock holder in another pid namespace on this host', () => {
  it('is judged elsewhere, never by its pid; this boot and namespace, or none recorded, by its pid', () => {
    const dead = deadPid();
    expect(judgeHolder({ host: hostname(), pid: dead, scope: otherNamespace })).toBe('elsewhere');
    // Its pid 1 is not this process, even when the numbers agree.
    expect(judgeHolder({ host: hostname(), pid: process.pid, scope: otherNamespace })).toBe('elsewhere');
    expect(judgeHolder({ host: hostname(), pid: dead, scope: here! })).toBe('gone');
    expect(judgeHolder({ host: hostname(), pid: process.pid, scope: here! })).toBe('self');
    expect(judgeHolder({ host: hostname(), pid: process.ppid, scope: here! })).toBe('running');
    // A lock of an older version (no scope): by its pid, as before.
    expect(judgeHolder({ host: hostname(), pid: dead })).toBe('gone');
    // Written before this machine last booted: no process of that boot runs.
    expect(judgeHolder({ host: hostname(), pid: process.ppid, scope: '00000000-0000-0000-0000-000000000000/pid:[4026531836]' })).toBe('gone');
  });

  it('holds the embedded database: a start is refused naming it, and neither takes nor releases it', () => {
    const dir = dataDir();
    const dead = deadPid();
    writeFileSync(lockPath(dir), pgliteLockOf(dead, otherNamespace));
    expect(readLock(dir)).toMatchObject({ pid: dead, scope: otherNamespace });
    expect(acquireLock(dir, null, 'all')).toBe(false);
    expect(() => refuseSecondBot(dir, readLock(dir))).toThrow(`is already in use by pid ${dead} on host ${hostname()} (another pid namespace) (ctb start --role all)`);
    expect(() => refuseSecondBot(dir, readLock(dir))).toThrow(expect.objectContaining({ hint: expect.stringContaining(`if nothing runs there, remove ${lockPath(dir)}`) }));
    // A holder there with this process's pid number is not this process.
    writeFileSync(lockPath(dir), pgliteLockOf(process.pid, otherNamespace));
    expect(acquireLock(dir, null, 'all')).toBe(false);
    releaseLock(dir);
    expect(readLock(dir)).toMatchObject({ pid: process.pid, scope: otherNamespace });
    expect(() => refuseSecondBot(dir, readLock(dir))).toThrow('another pid namespace');
  });

  it('holds the saved kills until its age rule says stale: a change waits, then fails naming it', async () => {
    const dir = dataDir();
    const dead = deadPid();
    const since = new Date().toISOString();
    writeFileSync(pendingKillLockPath(dir), JSON.stringify({ host: hostname(), pid: dead, scope: otherNamespace, since, token: 'next-door' }));
    await expect(withPendingKillLock(dir, async () => 'changed')).rejects.toThrow(`is held by pid ${dead} on host ${hostname()} (another pid namespace) since ${since}`);
    expect(existsSync(pendingKillLockPath(dir))).toBe(true);
    // Older than a change could ever take: stale, taken over.
    writeFileSync(pendingKillLockPath(dir), JSON.stringify({ host: hostname(), pid: dead, scope: otherNamespace, since: new Date(Date.now() - 61_000).toISOString(), token: 'next-door' }));
    expect(await withPendingKillLock(dir, async () => 'changed')).toBe('changed');
    expect(readdirSync(dir)).toEqual([]);
  }, 20_000);

  it('the locks this process takes record its pid scope', async () => {
    const dir = dataDir();
    expect(acquireLock(dir, null, 'all')).toBe(true);
    expect(readLock(dir)).toMatchObject({ pid: process.pid, scope: here });
    releaseLock(dir);
    expect(readLock(dir)).toBeNull();
    const seen = await withPendingKillLock(dir, async () => JSON.parse(await import('node:fs/promises').then((f) => f.readFile(pendingKillLockPath(dir), 'utf8'))) as unknown);
    expect(seen).toMatchObject({ host: hostname(), pid: process.pid, scope: here });
  });
});
