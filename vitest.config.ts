import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    setupFiles: ['tests/support/setup.ts'],
    // Child processes run bin/ctb.js, i.e. dist/: built here first from the sources under test.
    globalSetup: ['tests/support/build-cli.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Each file gets its own database (see tests/support/db.ts), so files may run side by side.
    fileParallelism: true,
    maxWorkers: 2,
  },
});
