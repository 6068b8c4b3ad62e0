// The run's own temp directory (tests/support/run-tmpdir.ts): every worker's os.tmpdir() is inside
// it, so what tests make there goes when the run ends instead of piling up in /tmp.
import { existsSync, mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { makeRunTmpdir, RUN_OWNER_FILE, sharedTmpdir, SHARED_TMPDIR_ENV } from '../support/run-tmpdir.js';

describe("the run's temp directory", () => {
  it("is this worker's tmpdir(), one level under the temp directory runs share", () => {
    const shared = process.env[SHARED_TMPDIR_ENV];
    expect(shared, `${SHARED_TMPDIR_ENV} unset: the global setup made no run directory`).toBeTruthy();
    expect(tmpdir()).toBe(process.env['TMPDIR']);
    expect(dirname(tmpdir())).toBe(shared);
    expect(tmpdir()).toMatch(/\/ctb-test-run-[^/]+$/);
    expect(sharedTmpdir()).toBe(shared);
  });

  it('is made under the shared one, is TMPDIR until removed, and goes with everything in it', () => {
    const shared = mkdtempSync(join(tmpdir(), 'run-tmpdir-'));
    try {
      const env: NodeJS.ProcessEnv = { TMPDIR: shared };
      const run = makeRunTmpdir(env);
      expect(dirname(run.dir)).toBe(shared);
      expect(env['TMPDIR']).toBe(run.dir);
      expect(sharedTmpdir(env)).toBe(shared);
      mkdirSync(join(run.dir, 'ctb-engine-x', 'data'), { recursive: true });
      writeFileSync(join(run.dir, 'ctb-engine-x', 'data', 'PG_VERSION'), '17');
      run.remove();
      expect(existsSync(run.dir)).toBe(false);
      expect(env).toEqual({ TMPDIR: shared });
    } finally {
      rmSync(shared, { recursive: true, force: true });
    }
  });

  it('removes the directories of runs whose process is gone (killed before their teardown), not those of a live run', () => {
    const shared = mkdtempSync(join(tmpdir(), 'run-tmpdir-'));
    try {
      const dead = Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout);
      const killed = join(shared, 'ctb-test-run-killed');
      const live = join(shared, 'ctb-test-run-live');
      const unowned = join(shared, 'ctb-test-run-older');
      for (const dir of [killed, live, unowned]) mkdirSync(join(dir, 'ctb-engine-x'), { recursive: true });
      writeFileSync(join(killed, RUN_OWNER_FILE), JSON.stringify({ pid: dead }));
      writeFileSync(join(live, RUN_OWNER_FILE), JSON.stringify({ pid: process.pid }));
      const run = makeRunTmpdir({ TMPDIR: shared });
      expect([existsSync(killed), existsSync(live), existsSync(unowned)]).toEqual([false, true, true]);
      // The new run names its own process, for the run after it.
      expect(existsSync(join(run.dir, RUN_OWNER_FILE))).toBe(true);
      run.remove();
    } finally {
      rmSync(shared, { recursive: true, force: true });
    }
  });
});
