// vitest globalSetup (vitest.config.ts): what the tests need before the first of them starts. The
// tests' PostgreSQL is checked first, alone (tests/support/check-test-database.ts): when it is missing
// the run stops with one line, before anything is built. Then three builds that need nothing of each
// other run side by side, not one after another: dist/ for the `ctb` child processes
// (build-cli.ts), the tests' own helper processes (build-children.ts) and the migrated PGlite image
// every embedded test database starts from (pglite-image.ts). After an edit, dist/'s esbuild and the
// children's overlap; after a migration, both overlap PGlite's initdb and migrations. Last, the run's
// own temp directory, TMPDIR for every worker, removed when the run ends (run-tmpdir.ts).
// vitest calls a global setup once for the root project and once for each project that runs files:
// each step is done once a run (its module keeps its promise on globalThis) and the later calls wait
// for it, so the database is connected to once, not once a call.
import type { TestProject } from 'vitest/node';
import buildChildren from './build-children.js';
import buildCli from './build-cli.js';
import checkTestDatabase from './check-test-database.js';
import buildPgliteImage from './pglite-image.js';
import runTmpdir from './run-tmpdir.js';

/** `check`, then every one of `builds` at once; done when the last ends (or one fails). */
export async function setUp(check: () => Promise<void>, builds: Array<() => Promise<void>>): Promise<void> {
  await check();
  await Promise.all(builds.map((build) => build()));
}

/** Returns the teardown that removes the run's temp directory (run-tmpdir.ts), made once the builds are done. */
export default async function globalSetup(project: TestProject): Promise<() => void> {
  await setUp(checkTestDatabase, [buildCli, () => buildChildren(project), buildPgliteImage]);
  return runTmpdir();
}
