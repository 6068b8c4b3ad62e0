// A preload for tests/unit/bin-exit.test.ts: says on stderr when the process ends through
// process.exit (which calls process.reallyExit), with the code it ends with.
const reallyExit = process.reallyExit;
process.reallyExit = (code) => {
  process.stderr.write(`ended through process.exit with ${code}\n`);
  reallyExit(code);
};
