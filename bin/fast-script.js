// The one-script builds of the commands people wait on and run most (`ctb stats`, `ctb kill` …):
// scripts/build.mjs bundles each such command with everything it imports into one CommonJS-style
// script in dist/fast/, beside V8's compiled code for it. Loading one file with its code cached
// costs a fraction of loading the fifty-odd ES module chunks of the same code and compiling them.
// Both sides of the format live here: the build writes with fastScriptFiles, bin/ctb.js loads with
// loadFastScript. The cache is used only when it is the one built for this very script (SHA-256
// of both, in the manifest) and V8 accepts it (same Node and V8 flags); otherwise the script is
// compiled as usual. A script that does not match its manifest is not run: ctb runs dist/ctb.js.
// Node's modules as CommonJS gives them, not through `import` (bin/ctb.js says why).
const { readFileSync } = process.getBuiltinModule('node:fs');
const { createRequire } = process.getBuiltinModule('node:module');
const { dirname, join } = process.getBuiltinModule('node:path');
const { pathToFileURL } = process.getBuiltinModule('node:url');

// Node's crypto and vm modules only where a script is built or run: bin/ctb.js imports this module
// for every command, and compiling crypto's own code costs a few milliseconds (`ctb kill`, `--help`).
const builtin = createRequire(import.meta.url);
const compile = (source, options) => new (builtin('node:vm').Script)(source, options);

export const MANIFEST = 'manifest.json';

/** What the script's function is called with; the bundle's `import()`s and `import.meta` go through the last three. */
const PARAMETERS = ['exports', 'require', 'module', '__filename', '__dirname', '__ctbImport', '__ctbResolve', '__ctbModuleUrl'];

const sha256 = (bytes) => builtin('node:crypto').createHash('sha256').update(bytes).digest('hex');

/**
 * The files of one command's script for dist/fast/: the script (the bundle's CommonJS text in a
 * function), its code cache, and the manifest entry naming them. `argv` is the start of the command
 * lines it serves (['mode', 'status']). Before its code is cached the script runs, and when it exports
 * importCommandModules (src/cli/run-main.ts), so do its command's modules (imported, nothing else):
 * V8 compiles a function when it first runs, and caches only what it has compiled.
 */
export async function fastScriptFiles(name, argv, bundleText, filename) {
  const script = `(function (${PARAMETERS.join(', ')}) {${bundleText}\n})`;
  // Read back as Latin-1 when it is ASCII (a copy, not a UTF-8 decode): esbuild escapes strings, but
  // a comment it keeps may hold any character.
  const encoding = /[^\x00-\x7f]/.test(script) ? 'utf8' : 'latin1';
  const compiled = compile(script, { filename });
  const exports = run(compiled, filename);
  if (typeof exports.importCommandModules === 'function') await exports.importCommandModules(argv);
  const cache = compiled.createCachedData();
  return {
    files: [
      { name: `${name}.cjs`, contents: Buffer.from(script) },
      { name: `${name}.cache`, contents: cache },
    ],
    entry: { argv, script: `${name}.cjs`, encoding, scriptSha256: sha256(script), cache: `${name}.cache`, cacheSha256: sha256(cache) },
  };
}

/** Runs the compiled script's function; returns its exports. */
function run(script, filename) {
  const module = { exports: {} };
  // Packages the bundle leaves out resolve from here as from dist/: both are inside the checkout.
  const importExternal = (specifier) => import(specifier);
  const resolveExternal = (specifier) => import.meta.resolve(specifier);
  script.runInThisContext().call(module.exports, module.exports, createRequire(filename), module, filename, dirname(filename), importExternal, resolveExternal, pathToFileURL(filename).href);
  return module.exports;
}

const readJson = (file) => {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return null;
  }
};

/** The manifest entry of the script that serves `argv`, or null (no dist/fast/, or no script for it). */
export function fastScriptFor(dir, argv) {
  const manifest = readJson(join(dir, MANIFEST));
  if (!manifest || typeof manifest !== 'object') return null;
  return Object.values(manifest).find((e) => Array.isArray(e?.argv) && e.argv.length > 0 && e.argv.every((word, i) => argv[i] === word)) ?? null;
}

/**
 * Compiles the script of `entry` (from fastScriptFor) in `dir` and returns its exports, with what
 * became of its cache: 'used', 'rejected' (by V8: another Node or other flags), 'mismatch' (not the
 * cache built for this script, or damaged: never given to V8, which does not check its contents), or
 * 'missing'. Null when the script is missing or not the one the manifest names.
 */
export function loadFastScript(dir, entry) {
  let source;
  try {
    source = readFileSync(join(dir, entry.script));
  } catch {
    return null;
  }
  if (sha256(source) !== entry.scriptSha256) return null;
  let cachedData;
  let cache = 'missing';
  try {
    const bytes = readFileSync(join(dir, entry.cache));
    if (sha256(bytes) === entry.cacheSha256) cachedData = bytes;
    else cache = 'mismatch';
  } catch {
    // no cache: compiled as usual
  }
  const filename = join(dir, entry.script);
  const script = compile(source.toString(entry.encoding === 'latin1' ? 'latin1' : 'utf8'), { filename, ...(cachedData ? { cachedData } : {}) });
  if (cachedData) cache = script.cachedDataRejected ? 'rejected' : 'used';
  return { exports: run(script, filename), cache };
}
