// A lock on the embedded database left by a bot that is gone is taken over by the next start; several
// starts finding it together (a supervisor restarting two units, an operator's `ctb start` beside one)
// must not both take it: two bots on one data directory both trade. Exactly one wins, every time.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { acquireLock, lockPath, readLock, releaseLock } from '../../../src/db/pglite-lock.js';
import { breakFilePath } from '../../../src/fs-lock/break-file-lock.js';
import { lineChild } from '../../support/children.js';

const STARTS = 6;
const ROUNDS = 20;

/** A process starting (tests/support/pglite-lock-child.ts), loaded and waiting for a data directory (a line). */
const starter = () => lineChild('pglite-lock-child');

describe('starts racing on a stale embedded-database lock', () => {
  it(`${STARTS} starts together on a lock whose bot is gone: exactly one takes it (${ROUNDS} rounds)`, async () => {
    const gone = Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout);
    const starts = await Promise.all(Array.from({ length: STARTS }, () => starter()));
    const outcomes: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const dataDir = mkdtempSync(join(tmpdir(), 'ctb-pglite-lock-race-'));
      writeFileSync(lockPath(dataDir), JSON.stringify({ pid: gone, socketPath: null, since: '2026-03-02T09:59:00.000Z', host: hostname(), role: 'all' }));
      for (const s of starts) s.send(dataDir);
      const answers = await Promise.all(starts.map((s) => s.next()));
      const winners = starts.filter((_, i) => answers[i] === 'won');
      // The lock names the one winner, and nothing of the takeover is left beside it.
      const holder = (JSON.parse(readFileSync(lockPath(dataDir), 'utf8')) as { pid: number }).pid;
      outcomes.push(`${winners.length} won, lock names a winner: ${winners.some((w) => w.pid === holder)}, files: ${readdirSync(dataDir).join(' ')}`);
    }
    for (const s of starts) s.endInput();
    for (const s of starts) await s.exitClean();
    expect(outcomes).toEqual(Array.from({ length: ROUNDS }, () => '1 won, lock names a winner: true, files: pglite.lock'));
  }, 60_000);

  it('a start that died breaking a stale lock left its break file: the next start breaks that too and takes the lock', () => {
    const gone = Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout);
    const dataDir = mkdtempSync(join(tmpdir(), 'ctb-pglite-lock-break-'));
    const stale = JSON.stringify({ pid: gone, socketPath: null, since: '2026-03-02T09:59:00.000Z', host: hostname(), role: 'all' });
    writeFileSync(lockPath(dataDir), stale);
    writeFileSync(breakFilePath(lockPath(dataDir), { ino: statSync(lockPath(dataDir)).ino, text: stale }), JSON.stringify({ pid: gone, host: hostname(), since: '2026-03-02T09:59:01.000Z', token: 'left-behind' }));
    expect(acquireLock(dataDir, null, 'all')).toBe(true);
    expect(readLock(dataDir)?.pid).toBe(process.pid);
    expect(readdirSync(dataDir)).toEqual(['pglite.lock']);
    releaseLock(dataDir);
  });
});
