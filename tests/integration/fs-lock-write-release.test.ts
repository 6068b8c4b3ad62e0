// Isolated (tests/integration, not tests/unit): it mocks node:fs for the modules it imports, which a
// shared worker would hand on to the next file (tests/unit/shared-worker-files.test.ts).
// The file calls of the lock files under DATA_DIR, with a failure or another process's step put in
// where the review found them unguarded: a full DATA_DIR failing the write of a lock's file of its own
// (it must not stay behind, one per try), and a neighbour breaking a saved-kills lock (held past its age
// rule) while this process lets it go (this process must delete only its own lock, never the
// neighbour's new one).
import { statSync, readdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { acquireLock } from '../../src/db/pglite-lock.js';
import { breakFilePath } from '../../src/fs-lock/break-file-lock.js';
import { pendingKillLockPath, withPendingKillLock } from '../../src/services/kill/pending-kill-lock.js';

const inject = vi.hoisted(() => ({ failTmpWrites: false, afterClose: null as null | ((path: string) => void) }));
const enospc = () => Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });

vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  const writeFile = (async (path: string, data: string, opts: unknown) => {
    // A full disk: the exclusive create succeeds, the write of its contents fails.
    if (inject.failTmpWrites && String(path).endsWith('.tmp')) {
      await real.writeFile(path, '', { flag: 'wx' });
      throw enospc();
    }
    return real.writeFile(path, data, opts as Parameters<typeof real.writeFile>[2]);
  }) as typeof real.writeFile;
  const open = (async (path: string, flags?: string) => {
    const file = await real.open(path, flags);
    const close = file.close.bind(file);
    file.close = async () => {
      await close();
      const hook = inject.afterClose;
      if (hook !== null) hook(String(path));
    };
    return file;
  }) as typeof real.open;
  return { ...real, writeFile, open, default: { ...real, writeFile, open } };
});
vi.mock('node:fs', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs')>();
  const writeFileSync = ((path: string, data: string, opts: unknown) => {
    if (inject.failTmpWrites && String(path).endsWith('.tmp')) {
      real.writeFileSync(path, '', { flag: 'wx' });
      throw enospc();
    }
    return real.writeFileSync(path, data, opts as Parameters<typeof real.writeFileSync>[2]);
  }) as typeof real.writeFileSync;
  return { ...real, writeFileSync, default: { ...real, writeFileSync } };
});

const dataDir = () => mkdtempSync(join(tmpdir(), 'ctb-lock-inject-'));

describe('a full DATA_DIR', () => {
  it('fails taking either lock with the write error and leaves no file behind', async () => {
    const dir = dataDir();
    inject.failTmpWrites = true;
    try {
      await expect(withPendingKillLock(dir, async () => 'changed')).rejects.toThrow('ENOSPC');
      expect(() => acquireLock(dir, null, 'all')).toThrow('ENOSPC');
    } finally {
      inject.failTmpWrites = false;
    }
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('a neighbour breaking the saved-kills lock while this process lets it go', () => {
  it('cannot break it then, and this process deletes only its own lock', async () => {
    const dir = dataDir();
    const lock = pendingKillLockPath(dir);
    let neighbour = 'never tried';
    // Once the change is over, right after this process next reads the lock, a neighbour judging it
    // stale breaks it the way every process does (its break file, created exclusively) and takes its own.
    const breakAsANeighbour = (path: string) => {
      if (path !== lock) return;
      inject.afterClose = null;
      const text = readFileSync(lock, 'utf8');
      const breakPath = breakFilePath(lock, { ino: statSync(lock).ino, text });
      try {
        writeFileSync(breakPath, JSON.stringify({ host: hostname(), pid: 1, since: new Date().toISOString(), token: 'n' }), { flag: 'wx' });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        neighbour = 'refused: being removed';
        return;
      }
      unlinkSync(lock);
      writeFileSync(lock, JSON.stringify({ host: hostname(), pid: 1, since: new Date().toISOString(), token: 'neighbour' }), { flag: 'wx' });
      unlinkSync(breakPath);
      neighbour = 'took it';
    };
    expect(await withPendingKillLock(dir, async () => {
      inject.afterClose = breakAsANeighbour;
      return 'changed';
    })).toBe('changed');
    inject.afterClose = null;
    const left = readdirSync(dir);
    // Either the neighbour could not break it and it is gone, or the neighbour's lock is still there.
    expect({ neighbour, left, lock: left.length ? readFileSync(lock, 'utf8') : null }).toEqual({ neighbour: 'refused: being removed', left: [], lock: null });
  });
});
