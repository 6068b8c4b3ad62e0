// vitest globalSetup: one temp directory for the whole run, removed when the run ends. Workers start
// after the global setup with its environment, so TMPDIR set here is their os.tmpdir(): every
// mkdtempSync(join(tmpdir(), 'ctb-…')) of a test or a helper lands in it, and so does what a child
// process that inherits the worker's environment writes to its temp directory. A run used to leave
// about 1,460 directories in /tmp (ctb-cli 320, ctb-engine 282, ctb-kill 141 …), PGlite data
// directories of ~40 MB among them. What must outlive a run (the migrated PGlite image,
// pglite-image.ts) stays in the temp directory the run was started with: sharedTmpdir().
// A run killed before its teardown (SIGKILL) leaves its directory: each names its run's process
// (RUN_OWNER_FILE), and the next run removes those whose process is gone.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pidRunning, processStart } from '../../src/process-liveness.js';

/** In each run's directory: the pid (and start, process-liveness.ts) of the process whose run it is. */
export const RUN_OWNER_FILE = '.ctb-run-owner.json';
const RUN_PREFIX = 'ctb-test-run-';

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
  removeAbandonedRuns(shared);
  const dir = mkdtempSync(join(shared, RUN_PREFIX));
  const start = processStart('self');
  writeFileSync(join(dir, RUN_OWNER_FILE), JSON.stringify({ pid: process.pid, ...(start ? { start } : {}) }));
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

/**
 * Removes the run directories under `shared` whose run's process is gone (killed before its
 * teardown). One without an owner file (a run of an older version, or one being made) is left.
 */
export function removeAbandonedRuns(shared: string): void {
  let names: string[];
  try {
    names = readdirSync(shared).filter((n) => n.startsWith(RUN_PREFIX));
  } catch {
    return;
  }
  for (const name of names) {
    let owner: { pid?: unknown; start?: unknown };
    try {
      owner = JSON.parse(readFileSync(join(shared, name, RUN_OWNER_FILE), 'utf8')) as typeof owner;
    } catch {
      continue;
    }
    if (typeof owner.pid !== 'number') continue;
    if (!pidRunning(owner.pid, typeof owner.start === 'string' ? owner.start : undefined)) rmSync(join(shared, name), { recursive: true, force: true, maxRetries: 3 });
  }
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
