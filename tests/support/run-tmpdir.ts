// vitest globalSetup: one temp directory for the whole run, removed when the run ends. Workers start
// after the global setup with its environment, so TMPDIR set here is their os.tmpdir(): every
// mkdtempSync(join(tmpdir(), 'ctb-…')) of a test or a helper lands in it, and so does what a child
// process that inherits the worker's environment writes to its temp directory. A run used to leave
// about 1,460 directories in /tmp (ctb-cli 320, ctb-engine 282, ctb-kill 141 …), PGlite data
// directories of ~40 MB among them. What must outlive a run (the migrated PGlite image,
// pglite-image.ts) stays in the temp directory the run was started with: sharedTmpdir().
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Names the temp directory the run was started with (set beside TMPDIR). */
export const SHARED_TMPDIR_ENV = 'CTB_TEST_SHARED_TMPDIR';

/** The temp directory shared by runs: the one this run was started with, not the run's own. */
export function sharedTmpdir(env: NodeJS.ProcessEnv = process.env): string {
  return env[SHARED_TMPDIR_ENV] ?? (env['TMPDIR'] || tmpdir());
}

export interface RunTmpdir {
  dir: string;
  /** Removes the directory and everything in it, and gives `env` its TMPDIR back. */
  remove(): void;
}

/** Makes the run's temp directory under `env`'s temp directory and points `env`'s TMPDIR at it. */
export function makeRunTmpdir(env: NodeJS.ProcessEnv = process.env): RunTmpdir {
  const shared = sharedTmpdir(env);
  const before = env['TMPDIR'];
  const dir = mkdtempSync(join(shared, 'ctb-test-run-'));
  env[SHARED_TMPDIR_ENV] = shared;
  env['TMPDIR'] = dir;
  return {
    dir,
    remove() {
      rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
      if (before === undefined) delete env['TMPDIR'];
      else env['TMPDIR'] = before;
      delete env[SHARED_TMPDIR_ENV];
    },
  };
}

// vitest calls a global setup once for the root project and once for each project that runs files,
// and each teardown it returns: one directory a run, removed by the last teardown.
const memo = globalThis as { __ctbRunTmpdir?: { run: RunTmpdir; users: number } };

export default function runTmpdir(): () => void {
  const held = (memo.__ctbRunTmpdir ??= { run: makeRunTmpdir(), users: 0 });
  held.users++;
  let done = false;
  return () => {
    if (done) return;
    done = true;
    if (--held.users > 0) return;
    delete memo.__ctbRunTmpdir;
    held.run.remove();
  };
}
