// The embedded database's lock names a holder by pid; a pid is not a process. A bot killed with SIGKILL
// whose parent has not reaped it yet (a zombie), or a gone bot whose pid another process now has, holds
// nothing: a new `ctb start` must not be refused "in use by pid N" for them. Linux's /proc tells.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { acquireLock, lockPath, readLock, releaseLock } from '../../src/db/pglite-lock.js';
import { pidExists } from '../../src/services/engine-lease/holder-gone.js';

const started: ChildProcess[] = [];
afterEach(() => {
  for (const c of started.splice(0)) c.kill('SIGKILL');
});

/** A process's state letter, or null once it is gone. */
function procState(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(') ') + 2).split(' ')[0]!;
  } catch {
    return null;
  }
}

/**
 * A live process that never reaps its own child: `sh` backgrounds a short `sleep`, then becomes a long
 * one (exec), which never waits for the short one once it ends. On a machine so busy that the short
 * one ended before the exec (the shell then reaped it), again.
 */
async function parentOfAZombie(): Promise<{ zombie: number }> {
  for (;;) {
    const child = spawn('sh', ['-c', 'sleep 0.5 & echo $!; exec sleep 30'], { stdio: ['ignore', 'pipe', 'ignore'] });
    started.push(child);
    const zombie = Number(await new Promise<string>((resolve) => child.stdout!.once('data', (d: Buffer) => resolve(d.toString().trim()))));
    // Once the short sleep ends its parent (now the long `sleep`) never waits for it: until the kernel says so.
    let state: string | null;
    while ((state = procState(zombie)) !== null && state !== 'Z') await new Promise((r) => setTimeout(r, 10));
    if (state === 'Z') return { zombie };
  }
}

const dataDir = () => mkdtempSync(join(tmpdir(), 'ctb-lock-holder-'));
const lockOf = (pid: number, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ pid, socketPath: null, since: '2026-12-07T00:00:00.000Z', host: hostname(), role: 'all', ...extra });

describe.runIf(process.platform === 'linux')('who holds the embedded database (Linux)', () => {
  it('a zombie holds nothing: the lock is stale and a new process takes it', async () => {
    const { zombie } = await parentOfAZombie();
    const dir = dataDir();
    writeFileSync(lockPath(dir), lockOf(zombie));
    expect(readLock(dir)).toBeNull();
    expect(acquireLock(dir, null, 'all')).toBe(true);
    expect(readLock(dir)?.pid).toBe(process.pid);
    releaseLock(dir);
    // The same judgement where a standby proves the engine lease's holder gone (holder-gone.ts): a
    // zombie renews and trades nothing, so its lease need not be waited out.
    expect(pidExists(zombie)).toBe(false);
    expect(pidExists(process.pid)).toBe(true);
  });

  it('a pid now another process\'s (its start time differs) holds nothing; the same start time holds it', async () => {
    const other = spawn('sleep', ['30'], { stdio: 'ignore' });
    started.push(other);
    const stat = readFileSync(`/proc/${other.pid}/stat`, 'utf8');
    const start = stat.slice(stat.lastIndexOf(') ') + 2).split(' ')[19]!;
    const dir = dataDir();
    writeFileSync(lockPath(dir), lockOf(other.pid!, { procStart: String(Number(start) - 1) }));
    expect(readLock(dir)).toBeNull();
    writeFileSync(lockPath(dir), lockOf(other.pid!, { procStart: start }));
    expect(readLock(dir)?.pid).toBe(other.pid);
    // A lock of an older version (no start time) is judged by the pid alone, as before.
    writeFileSync(lockPath(dir), lockOf(other.pid!));
    expect(readLock(dir)?.pid).toBe(other.pid);
    expect(acquireLock(dir, null)).toBe(false);
  });

  it("another host's holder (a DATA_DIR on a shared volume) is not judged by this machine's /proc: held", async () => {
    const { zombie } = await parentOfAZombie();
    const dir = dataDir();
    writeFileSync(lockPath(dir), lockOf(zombie, { host: 'another-host', procStart: '1' }));
    expect(readLock(dir)).toMatchObject({ pid: zombie, host: 'another-host' });
    expect(acquireLock(dir, null)).toBe(false);
  });

  it('the lock this process takes records its start time', () => {
    const dir = dataDir();
    expect(acquireLock(dir, null, 'all')).toBe(true);
    const self = readFileSync('/proc/self/stat', 'utf8');
    expect(JSON.parse(readFileSync(lockPath(dir), 'utf8'))).toMatchObject({ pid: process.pid, procStart: self.slice(self.lastIndexOf(') ') + 2).split(' ')[19] });
    releaseLock(dir);
  });
});
