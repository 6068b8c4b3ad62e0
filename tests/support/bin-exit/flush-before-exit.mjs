// A command for tests/unit/bin-exit.test.ts (as dist/ctb.js) with a beforeExit listener of its own, as a
// logger flushing its buffer has: the listener starts more work, which sets the exit code when done.
process.once('beforeExit', () =>
  setTimeout(() => {
    process.stdout.write('flushed\n');
    process.exitCode = 4;
  }, 20),
);
process.stdout.write('done\n');
