import { defineConfig } from 'vitest/config';
import LongestFirstSequencer from './tests/support/sequencer.js';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    setupFiles: ['tests/support/setup.ts'],
    // Child processes run bin/ctb.js, i.e. dist/: built here first from the sources under test. And
    // the migrated PGlite image every test's embedded database starts from, built once, not per file.
    globalSetup: ['tests/support/build-cli.ts', 'tests/support/pglite-image.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Each file gets its own database (see tests/support/db.ts), so files may run side by side.
    fileParallelism: true,
    // More files at once than cores: most of a file's time is waiting (a child `ctb` starting, a
    // simulator's market moving, the soak's schedule), not computing.
    maxWorkers: 4,
    // The longest files start first, so the run is not left waiting on one that started late.
    sequence: { sequencer: LongestFirstSequencer },
  },
});
