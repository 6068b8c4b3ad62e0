// dependency-cruiser in a child process of its own, for the import-boundary test: cruises each job
// (a directory to run from and the directories to cruise there) with one config, one after the other
// in this one process, and prints one JSON array of the cruise results. Starting dependency-cruiser
// and TypeScript costs a process 1.5–2 CPU-seconds on a 2-core machine before it reads a file: the
// real tree and the small tree that proves the rules catch a forbidden import share that start.
// The same steps as the `depcruise --config <file> --output-type json` command: the config's options
// and rules, the TypeScript config its options name (read from the job's directory), then a cruise,
// with one resolve option the command cannot be given (the config's schema has no place for it):
// TS_EXTENSION_ALIAS below.
// Built before the run (tests/support/build-children.ts); a test starts it with
// node childScript('cruise-child') <config> '<[{"cwd":…,"dirs":[…]},…]>'
import { cruise } from 'dependency-cruiser';
import extractDepcruiseOptions from 'dependency-cruiser/config-utl/extract-depcruise-options';
import extractTSConfig from 'dependency-cruiser/config-utl/extract-ts-config';

/**
 * TypeScript's own mapping of an import's JavaScript extension to its sources (`./thing.js` is
 * ./thing.ts), given to the resolver up front, the .js file first as TypeScript tries it. Without
 * it dependency-cruiser first tries `./thing.js` as written, with each of eleven extensions appended
 * and as a directory, builds the failure's report, and only then retries `./thing` with .ts, .tsx
 * and .d.ts (its resolve/index.mjs, resolveWithRetry): for nearly every import of this tree. Same
 * cruise output, byte for byte, on the real tree and the architecture test's small one; measured on
 * both jobs, 3 runs each under load 16: 7.6 CPU-s without it, 6.1 with it.
 */
const TS_EXTENSION_ALIAS = {
  extensionAlias: { '.js': ['.js', '.ts', '.tsx', '.d.ts'], '.jsx': ['.jsx', '.ts', '.tsx', '.d.ts'], '.cjs': ['.cjs', '.cts', '.d.cts'], '.mjs': ['.mjs', '.mts', '.d.mts'] },
};

const [config, jobsJson] = process.argv.slice(2) as [string, string];
const jobs = JSON.parse(jobsJson) as Array<{ cwd: string; dirs: string[] }>;
const results: unknown[] = [];
for (const job of jobs) {
  // Paths in the rules and in the results are relative to the directory a cruise runs from.
  process.chdir(job.cwd);
  const options = await extractDepcruiseOptions(config);
  const tsConfigFile = options.tsConfig?.fileName;
  const tsConfig = tsConfigFile ? extractTSConfig(tsConfigFile) : undefined;
  const result = await cruise(job.dirs, { ...options, outputType: 'json' }, TS_EXTENSION_ALIAS, tsConfig ? { tsConfig } : {});
  results.push(JSON.parse(result.output as string));
}
process.stdout.write(JSON.stringify(results));
