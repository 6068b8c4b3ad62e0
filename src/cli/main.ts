// Entry point of the `ctb` binary (built into dist/ctb.js; bin/ctb.js runs it).
import { processIo } from './io.js';
import { runCli } from './program.js';

// `ctb … | head` closes the pipe early: the rest of the output is dropped, never the command's work
// (a `ctb kill | head -1` still cancels and halts), and no EPIPE stack trace is printed.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
  });
}

const code = await runCli(process.argv.slice(2), processIo());
process.exitCode = code;
