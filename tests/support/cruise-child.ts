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
// With a third argument, a directory: each job's result is kept there with what it was a function of
// (tests/support/cruise-cache.ts) and given again, without starting dependency-cruiser, while that is
// unchanged.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cacheable, cruiseCacheKey, outsideFiles, type CruisedModules, type CruiseJob } from './cruise-cache.js';

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

const [config, jobsJson, cacheDir] = process.argv.slice(2) as [string, string, string | undefined];
const jobs = JSON.parse(jobsJson) as CruiseJob[];
/** An installed package's version, read beside the config (the project's node_modules), or why it could not be. */
function installedVersion(name: string): string {
  try {
    return `${name}@${(JSON.parse(readFileSync(join(dirname(resolve(config)), 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version}`;
  } catch (err) {
    return `${name}@unreadable:${(err as Error).message}`;
  }
}
// The versions the cruise runs under: a new dependency-cruiser or TypeScript may resolve or judge
// the same files differently, whatever the lockfile beside the config says.
const cruiser = { script: fileURLToPath(import.meta.url), versions: [process.version, installedVersion('dependency-cruiser'), installedVersion('typescript')] };

interface Kept { key: string; outside: string[]; result: unknown }
/** A job's entry in the cache directory: one a list of directories, the last cruise of it. */
const entryOf = (job: CruiseJob) => join(cacheDir!, `${createHash('sha256').update(job.dirs.join('\n')).digest('hex').slice(0, 16)}.json`);
function readKept(job: CruiseJob): Kept | null {
  try {
    return JSON.parse(readFileSync(entryOf(job), 'utf8')) as Kept;
  } catch {
    return null;
  }
}
function keep(job: CruiseJob, result: CruisedModules): void {
  if (!cacheable(result)) return;
  const outside = outsideFiles(result, job);
  const kept: Kept = { key: cruiseCacheKey(config, job, outside, cruiser), outside, result };
  mkdirSync(cacheDir!, { recursive: true });
  const tmp = `${entryOf(job)}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(kept));
  renameSync(tmp, entryOf(job)); // whole or not at all, for a run beside this one
}

async function cruiseJob(job: CruiseJob): Promise<unknown> {
  const { cruise } = await import('dependency-cruiser');
  const { default: extractDepcruiseOptions } = await import('dependency-cruiser/config-utl/extract-depcruise-options');
  const { default: extractTSConfig } = await import('dependency-cruiser/config-utl/extract-ts-config');
  // Paths in the rules and in the results are relative to the directory a cruise runs from.
  process.chdir(job.cwd);
  const options = await extractDepcruiseOptions(config);
  const tsConfigFile = options.tsConfig?.fileName;
  const tsConfig = tsConfigFile ? extractTSConfig(tsConfigFile) : undefined;
  const result = await cruise(job.dirs, { ...options, outputType: 'json' }, TS_EXTENSION_ALIAS, tsConfig ? { tsConfig } : {});
  return JSON.parse(result.output as string);
}

const results: unknown[] = [];
for (const job of jobs) {
  const kept = cacheDir ? readKept(job) : null;
  if (kept && kept.key === cruiseCacheKey(config, job, kept.outside, cruiser)) {
    results.push(kept.result);
    continue;
  }
  // A file written while the cruise read the tree: the result is given but not kept.
  const before = cacheDir ? cruiseCacheKey(config, job, kept?.outside ?? [], cruiser) : '';
  const result = await cruiseJob(job);
  if (cacheDir && cruiseCacheKey(config, job, kept?.outside ?? [], cruiser) === before) keep(job, result as CruisedModules);
  results.push(result);
}
process.stdout.write(JSON.stringify(results));
