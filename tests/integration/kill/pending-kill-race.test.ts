// Several processes changing DATA_DIR/kill-pending.json at once — two shells' kills saving their
// entries while a replay drops kills it wrote — each change read, made and written back as one step
// (pending-kill-lock.ts): no saved kill is lost, none dropped comes back. A lock left by a process
// that died holding it is taken over, not waited on for ever.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pendingKillLockPath } from '../../../src/services/kill/pending-kill-lock.js';
import { addPendingKill, pendingKillPath, readPendingKills, type PendingKill } from '../../../src/services/kill/pending-kill.js';
import { lineChild } from '../../support/children.js';

const saved = (killId: string): PendingKill => ({
  killId, at: '2026-03-02T09:59:00.000Z', actor: 'cli:ops', actorSource: 'cli', trigger: 'manual', reason: 'saved', cancelReport: {},
});

/** A process changing the file (tests/support/pending-kill-child.ts), loaded and waiting for `go`. */
const writer = (dataDir: string, args: string[]) => lineChild('pending-kill-child', [dataDir, ...args]);

describe('kill-pending.json changed by several processes at once', () => {
  it('two kills saving and a replay dropping, together: every kill saved is there, released; none dropped is back', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ctb-pending-race-'));
    const dropped = Array.from({ length: 30 }, (_, i) => `dropped-${i}`);
    writeFileSync(pendingKillPath(dataDir), `${JSON.stringify({ kills: dropped.map(saved) }, null, 2)}\n`);
    const writers = await Promise.all([writer(dataDir, ['save', 'a', '20']), writer(dataDir, ['save', 'b', '20']), writer(dataDir, ['drop', dropped.join(',')])]);
    for (const w of writers) w.send('go');
    for (const w of writers) await w.exitClean();

    const kills = readPendingKills(dataDir);
    const expected = ['a', 'b'].flatMap((p) => Array.from({ length: 20 }, (_, i) => `${p}-${i}`)).sort();
    expect(kills.map((k) => k.killId).sort()).toEqual(expected);
    // Each as its kill last wrote it: released (no owner), with what the database did.
    expect(kills.filter((k) => k.owner !== undefined || k.database === undefined)).toEqual([]);
    expect(existsSync(pendingKillLockPath(dataDir))).toBe(false);
  }, 60_000);

  it('a lock left by a process that died holding it: the next change takes it over', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ctb-pending-stale-'));
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    writeFileSync(pendingKillLockPath(dataDir), JSON.stringify({ host: hostname(), pid: Number(dead.stdout), since: new Date().toISOString(), token: 'left-behind' }));
    await addPendingKill(dataDir, saved('after-the-crash'));
    expect(readPendingKills(dataDir).map((k) => k.killId)).toEqual(['after-the-crash']);
    expect(existsSync(pendingKillLockPath(dataDir))).toBe(false);
  });
});
