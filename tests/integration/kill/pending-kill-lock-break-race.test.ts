// Two processes finding one stale saved-kills lock: both judge it stale, one breaks it, takes the
// lock and lets it go, a third takes it — and only then does the slower breaker act. It must break
// nothing but the stale lock it judged: neither the third's lock while held (two changes at once),
// nor leave behind a lock naming the third, alive and no longer holding it (every later change would
// wait for it and fail). Real processes, each stopped and let go at the step the race needs.
import { spawnSync } from 'node:child_process';
import { open } from 'node:fs/promises';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pendingKillLockPath } from '../../../src/services/kill/pending-kill-lock.js';
import { readPendingKills } from '../../../src/services/kill/pending-kill.js';
import { lineChild } from '../../support/children.js';

const child = (dataDir: string, args: string[]) => lineChild('pending-kill-lock-child', [dataDir, ...args]);

describe.runIf(process.platform === 'linux')('a stale saved-kills lock broken by two processes while a third takes the lock', () => {
  it('the slower breaker leaves the third\'s lock alone: every change is made, no lock is left', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ctb-pending-break-race-'));
    const lock = pendingKillLockPath(dataDir);
    const dead = Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout);
    writeFileSync(lock, JSON.stringify({ host: hostname(), pid: dead, since: new Date().toISOString(), token: 'left-behind' }));
    const fifo = join(dataDir, 'slow-breaker.fifo');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);

    const slow = await child(dataDir, ['save', 'slow', fifo]);
    const fast = await child(dataDir, ['save', 'fast']);
    const third = await child(dataDir, ['hold']);
    const control = await open(fifo, 'w');
    const letGo = (how: 'go' | 'free') => control.write(`${how}\n`);
    const steps: string[] = [];

    // The slow breaker has the stale lock open: it is about to judge it.
    slow.send('go');
    steps.push(`slow: ${await slow.next()}`);
    // Meanwhile another process breaks it, takes the lock and lets it go; a third takes it.
    fast.send('go');
    steps.push(`fast: ${await fast.next()}`);
    third.send('go');
    steps.push(`third: ${await third.next()}`);
    // The slow breaker judges what it read (stale) and acts, up to its next look at a lock file.
    await letGo('go');
    steps.push(`slow: ${(await slow.next()).replace(/\.stale-.*$/, '.stale-…')}`);
    // The third lets its lock go; then the slow breaker finishes.
    third.send('release');
    steps.push(`third: ${await third.next()}`);
    await letGo('free');
    steps.push(`slow: ${await slow.next()}`);
    await control.close();
    for (const c of [slow, fast, third]) c.endInput();
    for (const c of [slow, fast, third]) await c.exitClean();

    expect(steps).toEqual([
      'slow: paused kill-pending.json.lock',
      'fast: done',
      'third: holding',
      expect.stringMatching(/^slow: paused kill-pending\.json\.lock/), // where it looks next is its own business
      'third: done',
      'slow: done',
    ]);
    expect(readPendingKills(dataDir).map((k) => k.killId).sort()).toEqual(['fast', 'slow']);
    expect(existsSync(lock)).toBe(false);
    expect(readdirSync(dataDir).sort()).toEqual(['kill-pending.json', 'slow-breaker.fifo']);
  }, 60_000);
});
