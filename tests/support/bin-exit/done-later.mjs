// A command for tests/unit/bin-exit.test.ts (as dist/ctb.js): its work ends after the module has run,
// and sets the exit code then.
setTimeout(() => {
  process.stdout.write('done\n');
  process.exitCode = 3;
}, 20);
