// vitest's transformed modules kept on disk (its `experimental.fsModuleCache`, vitest.config.ts): each
// test file's sources and tests are compiled from TypeScript once, not once per project and again on
// every run. Each project (shared, isolated, v8-defaults) has a vite server of its own, and about 400
// modules were compiled by two of them; a run finds what the last one compiled of an unchanged file.
// An entry is keyed by the file's path and text, the vite and vitest config (the config files' text
// included) and the installed packages (the lockfile: another version of vite or vitest clears the
// cache); the compiled code carries its source map, so an error still points at the line written.
// What the compiler also reads and vitest does not key on is added here: tsconfig.json (the
// TypeScript transform reads its options) and package.json.
// The entries live in .test-build/ (gitignored) of the checkout, and go with it; an entry not written
// for a week is removed at the start of a run (prune-test-build.ts).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Plugin } from 'vitest/config';

/** Where the entries are, relative to the project root (vitest's `experimental.fsModuleCachePath`). */
export const MODULE_CACHE_DIR = '.test-build/vitest-modules';

/** The files whose text goes into every entry's key beside what vitest keys on. */
export const KEYED_FILES = ['tsconfig.json', 'package.json'];

/** The text the compiled modules depend on beyond their own: the files above, as they are in `root`. */
export function moduleCacheKey(root: string): string {
  return KEYED_FILES.map((f) => `${f}\0${readFileSync(join(root, f), 'utf8')}`).join('\0');
}

/**
 * The environment vitest runs the global setup in, in its own process (tests/support/global-setup.ts).
 * Its module runner fails on a module read from the cache as soon as an error's stack is formatted
 * (vite's extractInlineSourceMap: "code.charCodeAt is not a function"), which hid the database
 * check's one line behind that TypeError: its modules (a dozen, once a run) are not cached.
 */
export const UNCACHED_ENVIRONMENT = '__vitest__';

/** What a module's entry is keyed on beside vitest's key, or false: not cached. */
export type KeyGenerator = (context: { environment: { name: string } }) => string | false;

// vitest loads its config file once for the run and again for each project, and calls each project's
// plugins: the generator is one function for the process, so a run of one project (`--project shared`)
// computes the same keys as a run of all three and finds their entries. It answers with the key the
// config was last loaded with.
const memo = globalThis as { __ctbModuleCacheKey?: { key: string; generator: KeyGenerator } };

/** A plugin that adds moduleCacheKey(root) to every cache entry's key. */
export function moduleCacheKeyPlugin(root: string): Plugin {
  const key = moduleCacheKey(root);
  const held: { key: string; generator: KeyGenerator } = (memo.__ctbModuleCacheKey ??= { key, generator: ({ environment }) => (environment.name === UNCACHED_ENVIRONMENT ? false : held.key) });
  held.key = key;
  const { generator } = held;
  return {
    name: 'ctb:module-cache-key',
    configureVitest({ experimental_defineCacheKeyGenerator }) {
      experimental_defineCacheKeyGenerator(generator);
    },
  };
}
