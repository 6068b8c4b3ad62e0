// The test files that share worker processes (vitest.config.ts, project `shared`, isolate: false): one
// worker runs many of them one after another and imports the sources once, where an isolated file
// pays a fresh process and every import again (about half a CPU-second a file, more with drizzle,
// Bolt or ccxt). A file belongs here only if it leaves nothing behind in its process that the next
// file could see, in any order (`npx vitest run --project shared --sequence.shuffle`):
// - no vi.mock / vi.doMock, vi.stubEnv / vi.stubGlobal, fake timers, and no spy left unrestored;
// - no write to process.env, process.exitCode, the working directory or process listeners;
// - no import of a support module that registers hooks when imported (tests/support/simulator.ts
//   registers its afterEach once per process, so only the first file of a worker would get it);
// - nothing left in the sources' module state that another file reads: the Kraken rate limiter's
//   counters per API key, the pending-kill queue, the order lock, open servers or timers.
// tests/unit/shared-worker-files.test.ts checks what can be read off each file's text.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

/** Globs as vitest reads them: a directory's every test file (`dir/**\/*.test.ts`) or one file. */
export const SHARED_WORKER_FILES = ['tests/unit/**/*.test.ts'];

/** The files SHARED_WORKER_FILES names, relative to `root` (the repository). */
export function sharedWorkerFiles(root: string): string[] {
  return SHARED_WORKER_FILES.flatMap((pattern) => {
    const dir = /^(.*)\/\*\*\/\*\.test\.ts$/.exec(pattern)?.[1];
    if (dir === undefined) return [pattern];
    return readdirSync(join(root, dir), { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.test.ts'))
      .map((f) => `${dir}/${f}`);
  }).sort();
}
