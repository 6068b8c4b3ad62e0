import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import { MODULE_CACHE_DIR, moduleCacheKeyPlugin } from './tests/support/module-cache.js';
import LongestFirstSequencer from './tests/support/sequencer.js';
import { SHARED_WORKER_FILES } from './tests/support/shared-worker-files.js';

// Workers run PGlite in-process for minutes at most, not for a bot's hours: V8's baseline
// WebAssembly compiler only (as a one-shot ctb command, src/db/pglite-start.ts). Its optimising
// compiler's work on PostgreSQL's hot functions cost more than it saved: eight PGlite-heavy
// files took ~26 CPU-s with it, ~18 without; the 29 files that open PGlite ~74 and ~66.
// Processes the tests spawn (ctb commands, bots) are not given it: they run as shipped.
// (Set per project: the files below run with V8's defaults.)
const LIFTOFF_ONLY = ['--liftoff-only'];
// Files that check what V8 does with the shipped flags: a one-command script's code cache is
// accepted only by a V8 whose flags are those it was built under (bin/fast-script.js).
const V8_DEFAULT_FILES = ['tests/unit/fast-script.test.ts'];

export default defineConfig({
  // What the module cache below keys on beside vitest's own key (tests/support/module-cache.ts).
  plugins: [moduleCacheKeyPlugin(fileURLToPath(new URL('.', import.meta.url)))],
  test: {
    // Modules compiled from TypeScript are kept in .test-build/ and used again while their text (and
    // the config, tsconfig.json, the installed packages) is unchanged: by the other projects of the
    // run, which compiled about 400 modules a second time, and by the next run, which compiles only
    // what changed. tests/unit with the alerts files: vitest's own process 7.4 CPU-s before, 6.9 on a
    // run that compiles every module, 3.3 on one that compiles none; the run 43.7, 42.8 and 38.6
    // (tests/support/module-cache.ts).
    experimental: { fsModuleCache: true, fsModuleCachePath: MODULE_CACHE_DIR },
    setupFiles: ['tests/support/setup.ts'],
    // The tests' PostgreSQL is checked first (tests/support/check-test-database.ts): one line when it is missing.
    // Child processes run bin/ctb.js, i.e. dist/: built here first from the sources under test, and
    // so are the tests' own helper processes (tests/support/build-children.ts). And the migrated
    // PGlite image every test's embedded database starts from, built once, not per file. The three
    // builds run side by side (tests/support/global-setup.ts).
    globalSetup: ['tests/support/global-setup.ts'],
    pool: 'forks',
    // A test's time limit is not its verdict (tests whose verdict is a time say so in an assertion, on a
    // clock the test controls where they can): it only ends a test that hangs. CI runs on a shared
    // 2-core machine; at a load average of 28 a CI run of main had four files fail at 30 s, each
    // doing nothing wrong but waiting for a core (an embedded database starting, a bot's flatten,
    // twenty escalation ticks). 90 s keeps a hang visible without failing honest work on a busy day.
    testTimeout: 90_000,
    hookTimeout: 60_000,
    // Each file gets its own database (see tests/support/db.ts), so files may run side by side.
    fileParallelism: true,
    // More files at once than cores: most of a file's time is waiting (a child `ctb` starting, a
    // simulator's market moving, the soak's schedule), not computing. With 4 at once the 2 cores of a
    // quiet machine stood idle for a quarter of the run (all four files waiting at once); measured on
    // the whole `npm test`, quiet, a new module cache each run: 4 workers 186.6 and 192.6 s (1.43 of
    // 2 cores busy), 5 workers 178.6 and 176.1 s, 6 workers 171.8 s (1.72 cores busy). More workers
    // cost some CPU (each shared worker imports the sources once; 268 → 295 machine CPU-s), and each
    // file must still pass on a busy machine, which CI may be: the suite passed with 5 at load 9.
    maxWorkers: 6,
    // The longest files start first, so the run is not left waiting on one that started late.
    sequence: { sequencer: LongestFirstSequencer },
    // Each project names its files (arrays in a project that extends this config add to these).
    projects: [
      // Files that leave nothing behind in their process (see tests/support/shared-worker-files.ts)
      // share workers: one worker runs many of them and imports the sources once, not once a file.
      { extends: true, test: { name: 'shared', include: SHARED_WORKER_FILES, exclude: V8_DEFAULT_FILES, isolate: false, execArgv: LIFTOFF_ONLY } },
      // Every other file in a fresh process of its own.
      { extends: true, test: { name: 'isolated', include: ['tests/**/*.test.ts'], exclude: [...SHARED_WORKER_FILES, ...V8_DEFAULT_FILES], execArgv: LIFTOFF_ONLY } },
      // In a fresh process of its own, with V8's default flags.
      { extends: true, test: { name: 'v8-defaults', include: V8_DEFAULT_FILES } },
    ],
  },
});
