// What the `ctb` binary does once its code is loaded, whichever build loaded it: the ES module
// build (dist/ctb.js, from main.ts) or the one-script build of a hot command (dist/fast/, loaded by
// bin/fast-script.js with its compiled code cached). Runs the command line and sets the exit code.
import { processIo } from './io.js';
import { commandOf, runCli } from './program.js';

export async function runMain(argv: string[] = process.argv.slice(2)): Promise<void> {
  // `ctb … | head` closes the pipe early: the rest of the output is dropped, never the command's work
  // (a `ctb kill | head -1` still cancels and halts), and no EPIPE stack trace is printed.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE') throw err;
    });
  }
  process.exitCode = await runCli(argv, processIo());
}

/**
 * Imports the modules `ctb <argv>` needs on its usual path — its command's module and the command
 * context's — and runs nothing: the build of a one-command script calls it before caching the
 * script's compiled code (bin/fast-script.js), as the code of a module first runs when imported.
 */
export async function importCommandModules(argv: string[]): Promise<void> {
  await commandOf(argv)?.load();
  // Imported here, not above: the ES module build's entry imports this module, and `ctb --help`
  // needs none of the context's modules (nor the config's schema library they import).
  const { importContextModules } = await import('./with-context.js');
  await importContextModules();
}
