// `node --import ./tests/support/list-builtins.mjs …`: at exit, prints the built-in modules the process
// compiled (process.moduleLoadList) on stderr as one `BUILTINS [...]` line. A preload for child
// processes (tests/integration/cli-lazy.test.ts); no test imports it.
process.on('exit', () => process.stderr.write(`BUILTINS ${JSON.stringify(process.moduleLoadList)}\n`));
