#!/usr/bin/env node
// Builds what `bin/ctb.js` runs: the CLI bundled by esbuild into dist/ — ES modules, split at every
// dynamic import so a subcommand loads only its own chunks; the packages listed in BUNDLED go into
// the bundle, the others load from node_modules at run time. No type checking here (`npm test` runs tsc first).
// `npm ci` runs this through the `prepare` script; vitest runs it before the tests (so a test never
// runs a stale build); `npm run build` by hand. When no file the last build read has changed
// (dist/build-inputs.json) and every file it wrote is there as written, esbuild is not run again; an unchanged build leaves dist/ as it is; a changed
// one is written to a temporary directory and swapped in, so a process starting meanwhile never
// sees a half-written dist/. dist/build-info.json records the build's hash and the commit it was
// built at (bin/ctb.js warns when the checkout has moved on since), with the release tag that commit
// sits on and whether the tree had uncommitted changes: the release facts of the code in dist/, which
// the go-live audit's release check reads (src/services/release/version.ts), also where no .git is
// deployed beside it. dist/build-sources.json records when the build began and the checkout's files it
// read (scripts/build-inputs.mjs recordSources: bin/ctb.js warns of a source changed since).
// dist/fast/ holds the one-script builds of the commands run most (`ctb stats`, `ctb mode status`,
// `ctb kill`, `ctb start` …) with V8's code cache for each (FAST below, bin/fast-script.js).
// Beside the JavaScript, dist/pglite-template/ is the embedded database initialised and migrated
// (scripts/pglite-template.mjs), rebuilt only when PGlite's version or migrations/ change.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { inputsUnchanged, outputsIntact, recordedInputs, recordInputs, recordSources } from './build-inputs.mjs';
import { TEMPLATE_FORMAT, migrationsHash, pgliteVersion } from './pglite-template-key.mjs';
import { postgresPatchProblem } from './postgres-patch.mjs';
import { readDescribe } from '../src/domain/git-describe.js';
import { fastScriptFiles, MANIFEST } from '../bin/fast-script.js';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

// postgres.js is bundled as patches/ left it (scripts/postgres-patch.mjs).
const unpatched = postgresPatchProblem(root);
if (unpatched) {
  process.stderr.write(`build: ${unpatched}\n`);
  process.exit(1);
}

// Packages bundled into dist/: plain JavaScript every command loads (commander, zod, drizzle-orm,
// postgres …), read at start-up as a few chunks instead of hundreds of files. They neither locate
// files next to their own code (import.meta.url, __dirname) nor start workers or child processes.
// Every other package — the big lazy ones (ccxt, vega, Slack, nodemailer, PGlite with its WASM),
// pino (worker-thread transports), node-cron (forks its daemon by path), and any package added
// later until it is checked and listed here — stays in node_modules and is imported from there.
const BUNDLED = new Set([
  'commander', 'zod', 'drizzle-orm', 'postgres', 'decimal.js', 'dotenv', 'luxon', 'prom-client', '@opentelemetry/api', 'cli-progress',
]);

const packageName = (spec) => (spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]);

/** Bare imports of packages not in BUNDLED (and Node's built-ins) stay imports at run time. */
const externals = {
  name: 'externals',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => (BUNDLED.has(packageName(args.path)) ? undefined : { path: args.path, external: true }));
  },
};
/**
 * zod's `z.locales` namespace (error messages in some 60 languages, about half of zod's code in the
 * bundle) is re-exported whole by zod's entry points, so the bundler keeps every locale although the
 * CLI never names one: English, the default, is imported by zod's schemas directly and stays. The
 * namespace is bundled empty; every command compiles and reads about 360 KB less at start-up.
 */
const zodWithoutLocales = {
  name: 'zod-without-locales',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) => (/[\\/]node_modules[\\/]zod[\\/]/.test(args.importer) ? { path: 'zod-locales', namespace: 'zod-locales' } : undefined));
    b.onLoad({ filter: /.*/, namespace: 'zod-locales' }, () => ({ contents: 'export {};\n', loader: 'js' }));
  },
};
/**
 * Two zod modules only its public namespace re-exports, which the CLI never calls: `z.compile`
 * (the ahead-of-time parser compiler, ~63 KB) and `z.fromJSONSchema` (~26 KB). Parsing never
 * imports them (it reads the compiler's sentinels by Symbol.for), yet every command compiled them
 * at start. Each is bundled as a stand-in with the same export names, read
 * from the real file, whose functions and classes throw that they are not bundled.
 */
const ZOD_UNUSED = [/[\\/]zod[\\/]v4[\\/]core[\\/]compile\.js$/, /[\\/]zod[\\/]v4[\\/]classic[\\/]from-json-schema\.js$/];
const zodUnused = {
  name: 'zod-unused',
  setup(b) {
    b.onLoad({ filter: /[\\/]node_modules[\\/]zod[\\/]v4[\\/].*\.js$/ }, (args) => {
      if (!ZOD_UNUSED.some((re) => re.test(args.path))) return undefined;
      const names = [...readFileSync(args.path, 'utf8').matchAll(/^export (?:const|let|var|function\*?|async function|class) ([A-Za-z_$][\w$]*)/gm)].map((m) => m[1]);
      if (names.length === 0 || /^export (?!const|let|var|function|async function|class)/m.test(readFileSync(args.path, 'utf8'))) {
        throw new Error(`zod-unused: ${args.path} exports in a form this stand-in does not copy; check the list in scripts/build.mjs`);
      }
      const file = args.path.split(/[\\/]/).slice(-3).join('/');
      const contents = [
        `const notBundled = (name) => { throw new Error(\`zod's \${name} (${file}) is not bundled in ctb (scripts/build.mjs)\`); };`,
        ...names.map((n) => `export function ${n}() { notBundled(${JSON.stringify(n)}); }`),
      ].join('\n');
      return { contents, loader: 'js' };
    });
  },
};
const REQUIRE_BANNER = "import { createRequire as __ctbCreateRequire } from 'node:module'; const require = __ctbCreateRequire(import.meta.url);";

/**
 * The chunks whose code never names `require` lose the banner's line (and their source map its
 * empty first line): the module import and the createRequire call cost each chunk a process loads
 * about as much as the chunk itself when it is small, and most are (ctb stats loads some fifty).
 */
function withoutUnusedRequire(outputFiles) {
  const byPath = new Map(outputFiles.map((f) => [f.path, f]));
  const dropped = new Set();
  const files = outputFiles.map((f) => {
    if (!f.path.endsWith('.js')) return f;
    const text = Buffer.from(f.contents).toString('utf8');
    const head = `${REQUIRE_BANNER}\n`;
    if (!text.startsWith(head)) throw new Error(`build: ${relative(root, f.path)} does not start with the require banner`);
    const rest = text.slice(head.length);
    if (/\brequire\b/.test(rest)) return f;
    if (!byPath.has(`${f.path}.map`)) throw new Error(`build: no source map beside ${relative(root, f.path)}`);
    dropped.add(`${f.path}.map`);
    return { path: f.path, contents: Buffer.from(rest) };
  });
  return files.map((f) => {
    if (!dropped.has(f.path)) return f;
    const map = JSON.parse(Buffer.from(f.contents).toString('utf8'));
    if (map.mappings === '') return f; // nothing mapped (a chunk of re-exports)
    if (!map.mappings.startsWith(';')) throw new Error(`build: ${relative(root, f.path)} maps the banner's line`);
    map.mappings = map.mappings.slice(1);
    return { path: f.path, contents: Buffer.from(JSON.stringify(map)) };
  });
}

/**
 * Node built-ins that a bundled package imports at its top but calls only on a path the CLI seldom
 * takes: postgres.js's tls (a TLS connection, when DATABASE_URL asks for one), commander's
 * child_process (an executable subcommand). Compiling Node's own
 * module for it cost every command that reaches that chunk about 3 ms at start; the import is
 * bundled as a function that requires the built-in when first called. The text replaced must be
 * found exactly once, so a new version of the package fails the build here instead of bundling it
 * unchanged.
 */
const LAZY_BUILTINS = [
  // commander spawns a child only for a subcommand that is an executable of its own (ctb has none):
  // required at load, node:child_process (and dgram, which it loads) cost every command's start-up.
  {
    file: /[\\/]node_modules[\\/]commander[\\/]lib[\\/]command\.js$/,
    from: "const childProcess = require('node:child_process');\n",
    to: "const childProcess = { spawn: (...args) => require('node:child_process').spawn(...args) };\n",
  },
  {
    file: /[\\/]node_modules[\\/]postgres[\\/]src[\\/]connection\.js$/,
    from: "import tls from 'tls'\n",
    to: "const tls = { connect: (...args) => require('node:tls').connect(...args) }\n",
  },
];
const lazyBuiltins = {
  name: 'lazy-builtins',
  setup(b) {
    b.onLoad({ filter: /[\\/]node_modules[\\/](postgres|commander)[\\/].*\.js$/ }, (args) => {
      const lazy = LAZY_BUILTINS.find((l) => l.file.test(args.path));
      if (!lazy) return undefined;
      const text = readFileSync(args.path, 'utf8');
      if (text.split(lazy.from).length !== 2) throw new Error(`lazy-builtins: ${args.path} no longer has ${JSON.stringify(lazy.from)} once; check LAZY_BUILTINS in scripts/build.mjs`);
      return { contents: text.replace(lazy.from, lazy.to), loader: 'js' };
    });
  },
};

const out = join(root, 'dist');
const quiet = process.argv.includes('--quiet');
const started = performance.now();

let build;
try {
  ({ build } = await import('esbuild'));
} catch {
  process.stderr.write(
    'Cannot build dist/: esbuild (a dev dependency) is not installed. Install with dev dependencies (`npm ci`, not `npm ci --omit=dev`), ' +
      'or build where they are and ship dist/ with the checkout.\n',
  );
  process.exit(1);
}

// No file the last build read has changed, and every file it wrote is there as written
// (scripts/build-inputs.mjs): dist/ is kept as it is.
const startedAt = Date.now();
const unchanged = existsSync(join(out, 'ctb.js')) && existsSync(join(out, 'build-info.json')) && inputsUnchanged(root, out) && outputsIntact(out);

const result = unchanged ? null : await build({
  absWorkingDir: root,
  entryPoints: { ctb: 'src/cli/main.ts' },
  outdir: out,
  write: false,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  plugins: [externals, zodWithoutLocales, zodUnused, lazyBuiltins],
  // CommonJS packages in the bundle call require(): give every chunk one (ES modules have none);
  // dropped again below from the chunks that never name it.
  banner: { js: REQUIRE_BANNER },
  chunkNames: 'chunks/[name]-[hash]',
  sourcemap: 'linked',
  // Class and function names stay as written: logs and errors show them.
  keepNames: true,
  metafile: true,
  logLevel: 'warning',
});

/**
 * The commands people wait on most, each also built as one script (bin/fast-script.js): `ctb stats`
 * and `ctb mode status` loaded some fifty chunks, and Node's ES module loader spent about as long
 * resolving, reading and linking them as V8 spent compiling them, which the script's code cache
 * mostly saves too. And the commands run most — by operators, by the bot's own processes and by
 * `npm test`, which spawns some 340 `ctb` processes: `ctb kill` (about 0.09 CPU-s less a run, of
 * 0.35 without a key and 0.7 with one), `ctb start` (about 0.09 less to /healthz, of 0.35 on
 * PostgreSQL), `ctb audit`, `ctb incident`, `ctb self-heal` (bench:cli-cpu). Each script costs the
 * build about 0.2 CPU-s and dist/ about 2.5 MB. `argv`: the command lines the script serves
 * (bin/ctb.js runs dist/ctb.js for the rest).
 * The script holds the whole CLI but the other commands' modules (onlyCommand stubs them), in
 * CommonJS form: each module the entry reaches is in it, those it imports with import() wrapped to
 * run when first imported, as in the chunks.
 */
const FAST = [
  { name: 'stats', argv: ['stats'], module: './stats.js' },
  { name: 'mode', argv: ['mode', 'status'], module: './mode.js' },
  { name: 'kill', argv: ['kill'], module: './kill.js' },
  { name: 'start', argv: ['start'], module: './start.js' },
  { name: 'audit', argv: ['audit'], module: './audit.js' },
  { name: 'incident', argv: ['incident'], module: './incident.js' },
  { name: 'self-heal', argv: ['self-heal'], module: './self-heal.js' },
  // The commands `npm test`'s processes run most after those (tests/support/child-cpu.ts counts them),
  // which operators run too: about 0.13 CPU-s less a run of each (`ctb alerts list` 0.43 → 0.30).
  { name: 'alerts', argv: ['alerts'], module: './alerts.js' },
  { name: 'migrate', argv: ['migrate'], module: './migrate.js' },
  { name: 'audit-log', argv: ['audit-log'], module: './audit-log.js' },
  { name: 'trades', argv: ['trades'], module: './trades.js' },
  { name: 'reconcile', argv: ['reconcile'], module: './go-live-tools.js' },
];

/** The command index's modules (src/cli/commands/index.ts) other than `keep`, each as a module that throws when imported. */
const onlyCommand = (keep) => ({
  name: 'only-command',
  setup(b) {
    b.onResolve({ filter: /^\.\/[\w-]+\.js$/ }, (args) => {
      if (!/[\\/]src[\\/]cli[\\/]commands[\\/]index\.ts$/.test(args.importer) || args.path === keep) return undefined;
      return { path: args.path, namespace: 'only-command' };
    });
    b.onLoad({ filter: /.*/, namespace: 'only-command' }, (args) => ({
      contents: `throw new Error(${JSON.stringify(`${args.path} is not in this one-command script of ctb (scripts/build.mjs, FAST): run dist/ctb.js`)});\n`,
      loader: 'js',
    }));
  },
});

async function buildFastBundle(fast) {
  const file = join(out, 'fast', `${fast.name}.cjs`);
  const built = await build({
    absWorkingDir: root,
    entryPoints: ['src/cli/run-main.ts'],
    outfile: file,
    write: false,
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    plugins: [externals, zodWithoutLocales, zodUnused, lazyBuiltins, onlyCommand(fast.module)],
    // The script's own URL and its loader's resolver (parameters of the script's function).
    define: { 'import.meta.url': '__ctbModuleUrl', 'import.meta.resolve': '__ctbResolve' },
    keepNames: true,
    metafile: true,
    logLevel: 'silent',
  });
  if (built.warnings.length > 0) {
    throw new Error(`build: the one-script build of ${fast.name} warns (it must not: an empty import.meta is one): ${built.warnings.map((w) => w.text).join('; ')}`);
  }
  let text = built.outputFiles[0].text;
  // A script's import() has no module to resolve from: the packages left out of the bundle are
  // imported by the loader (bin/fast-script.js) instead, as the chunks import them.
  const dynamic = new Set(Object.values(built.metafile.outputs).flatMap((o) => o.imports.filter((i) => i.external && i.kind === 'dynamic-import').map((i) => i.path)));
  for (const spec of dynamic) {
    const from = `import(${JSON.stringify(spec)})`;
    if (!text.includes(from)) throw new Error(`build: no ${from} in the one-script build of ${fast.name}`);
    text = text.split(from).join(`__ctbImport(${JSON.stringify(spec)})`);
  }
  // The packages the script both requires (a bundled package's static import of one left out) and
  // imports (__ctbImport above) are one module, the ES module the import gives: a package's exports
  // give require() its CommonJS copy otherwise, a second copy of the package loaded and compiled
  // beside the first (drizzle-orm/pglite's require of PGlite: ~520 KB of JavaScript, ~13 CPU-ms and
  // ~1,250 page faults of `ctb stats` and `ctb mode status` on the embedded database). Node (>= 20.19)
  // requires an ES module; the require is made when a property is first read (by then the import
  // has finished: a require while the same module is still being imported throws).
  for (const spec of [...dynamic].filter((d) => !isBuiltin(d))) {
    const from = `require(${JSON.stringify(spec)})`;
    if (!text.includes(from)) continue;
    const esm = `require(require("node:url").fileURLToPath(__ctbResolve(${JSON.stringify(spec)})))`;
    text = text.split(from).join(`((m) => new Proxy({}, { get: (_, key) => (m ??= ${esm})[key] }))()`);
  }
  // An import() of a computed file URL (ccxt's Kraken files, src/exchange/kraken/ccxt-client.ts) has
  // no loader in a script either: left as it was, it threw, and ccxt's whole index (every exchange it
  // supports, about 1 CPU-s) was imported in its place. It goes to the loader as the packages do.
  const computed = /(?<![\w$.])import\((?=new URL\()/g;
  if ((text.match(computed) ?? []).length !== 2 && /ccxt-client\.ts/.test(text)) {
    throw new Error(`build: the one-script build of ${fast.name} does not hold the two import()s of ccxt's Kraken files it rewrites: check src/exchange/kraken/ccxt-client.ts`);
  }
  text = text.replace(computed, '__ctbImport(');
  const left = text.match(/(?<![\w$.])import\(\s*["'`]/) ?? text.match(/(?<![\w$.`])import\((?!\s*["'`]|\$\{)/);
  if (left) throw new Error(`build: the one-script build of ${fast.name} keeps an import() it cannot run: ${text.slice(left.index, left.index + 60)}`);
  // esbuild writes code in ASCII (escaping every other character) but keeps some comments as written:
  // their other characters become '?', so that the script reads back as Latin-1 (bin/fast-script.js).
  text = text.split('\n').map((line) => (/^\s*(\/\/|\/\*|\*)/.test(line) ? line.replace(/[^\x00-\x7f]/g, '?') : line)).join('\n');
  return { fast, file, text, inputs: Object.keys(built.metafile.inputs) };
}

const fastBundles = unchanged ? [] : await Promise.all(FAST.map(buildFastBundle));

const files = unchanged ? [] : [
  ...withoutUnusedRequire(result.outputFiles),
  ...fastBundles.map((f) => ({ path: f.file, contents: Buffer.from(f.text) })),
  { path: join(out, 'package.json'), contents: Buffer.from('{ "type": "module" }\n') },
].sort((a, b) => a.path.localeCompare(b.path));
const hash = createHash('sha256');
for (const f of files) hash.update(relative(out, f.path)).update('\0').update(f.contents).update('\0');
// The code caches are V8's for this Node: another Node rebuilds them.
hash.update(`${process.version} ${process.arch}`);
// Unchanged inputs: the output is the one dist/ holds.
const digest = unchanged ? String(readInfo()?.hash) : hash.digest('hex').slice(0, 16);

function git(args) {
  try {
    return execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

/**
 * The checkout's release facts at build time: HEAD's commit, the tag it sits on exactly (null: none),
 * and whether tracked files differed from it (what `git describe --dirty` calls dirty). All null
 * outside a git checkout (a tarball): nothing to compare against later, and no tag to show.
 */
function releaseFacts() {
  // No .git (a tarball deploy, where `npm ci` runs prepare): keep the facts the build shipped with
  // it recorded on its checkout, rather than erase the tag it was released on.
  if (!existsSync(join(root, '.git'))) return shippedFacts();
  const commit = git(['rev-parse', 'HEAD']);
  if (commit === null) return { commit: null, tag: null, dirty: null };
  // Read as `ctb version` reads it (src/domain/git-describe.js): the tag recorded is the tag shown.
  const described = readDescribe(git(['describe', '--tags', '--always', '--dirty', '--long']));
  return { commit, tag: described?.tag ?? null, dirty: described?.dirty ?? false };
}
/** The release facts of the build-info.json already in dist/ (a build shipped from its checkout), else all null. */
function shippedFacts() {
  let have = null;
  try {
    have = JSON.parse(readFileSync(join(out, 'build-info.json'), 'utf8'));
  } catch {
    // none, or unreadable: nothing recorded
  }
  const text = (v) => (typeof v === 'string' && v !== '' ? v : null);
  return { commit: text(have?.commit), tag: text(have?.tag), dirty: typeof have?.dirty === 'boolean' ? have.dirty : null };
}
const info = `${JSON.stringify({ hash: digest, ...releaseFacts() }, null, 2)}\n`;

function readInfo() {
  try {
    return JSON.parse(readFileSync(join(out, 'build-info.json'), 'utf8'));
  } catch {
    return null;
  }
}

const TEMPLATE = 'pglite-template';
const TEMPLATE_KEY = 'pglite-template.json';

/** dist/pglite-template/ for this PGlite, these migrations and this format: kept when its key matches, else rebuilt. */
function ensureTemplate() {
  let want;
  try {
    want = { pglite: pgliteVersion(dirname(fileURLToPath(import.meta.resolve('@electric-sql/pglite')))), migrations: migrationsHash(join(root, 'migrations')), format: TEMPLATE_FORMAT };
  } catch {
    return 'no database template (PGlite is not installed): a first start initialises its directory';
  }
  let have = null;
  try {
    have = JSON.parse(readFileSync(join(out, TEMPLATE_KEY), 'utf8'));
  } catch {
    // none yet
  }
  if (have?.pglite === want.pglite && have?.migrations === want.migrations && have?.format === want.format && existsSync(join(out, TEMPLATE, 'PG_VERSION'))) return null;
  const t0 = performance.now();
  const tmpDir = join(out, `.${TEMPLATE}-${process.pid}`);
  const tmpKey = join(out, `.${TEMPLATE_KEY}-${process.pid}`);
  rmSync(tmpDir, { recursive: true, force: true });
  rmSync(join(out, TEMPLATE_KEY), { force: true });
  execFileSync(process.execPath, [join(root, 'scripts/pglite-template.mjs'), tmpDir, tmpKey], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  rmSync(join(out, TEMPLATE), { recursive: true, force: true });
  renameSync(tmpDir, join(out, TEMPLATE));
  renameSync(tmpKey, join(out, TEMPLATE_KEY));
  return `built the embedded database template in ${Math.round(performance.now() - t0)} ms`;
}

let what;
if (unchanged) {
  const tmpInfo = join(out, `.build-info-${process.pid}.json`);
  writeFileSync(tmpInfo, info);
  renameSync(tmpInfo, join(out, 'build-info.json'));
  what = 'dist/ is up to date (no file it was built from has changed)';
} else if (readInfo()?.hash === digest && existsSync(join(out, 'ctb.js')) && outputsIntact(out)) {
  // Same output, every file of it there as written: keep the files (a running test or bot may be
  // loading them); refresh the commit.
  const tmpInfo = join(out, `.build-info-${process.pid}.json`);
  writeFileSync(tmpInfo, info);
  renameSync(tmpInfo, join(out, 'build-info.json'));
  what = 'dist/ is up to date';
} else {
  const tmp = join(root, `.dist-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  for (const f of files) {
    const target = join(tmp, relative(out, f.path));
    mkdirSync(dirname(target), { recursive: true });
    // A one-command bundle is written as its script and code cache (below), not as bundled.
    if (!fastBundles.some((b) => b.file === f.path)) writeFileSync(target, f.contents);
  }
  const manifest = {};
  for (const b of fastBundles) {
    const { files: fastFiles, entry } = await fastScriptFiles(b.fast.name, b.fast.argv, b.text, b.file);
    for (const f of fastFiles) writeFileSync(join(tmp, 'fast', f.name), f.contents);
    manifest[b.fast.name] = entry;
  }
  writeFileSync(join(tmp, 'fast', MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
  writeFileSync(join(tmp, 'build-info.json'), info);
  const old = join(root, `.dist-old-${process.pid}`);
  // The database template outlives a JavaScript rebuild: it depends on PGlite and migrations/ only.
  for (const name of [TEMPLATE, TEMPLATE_KEY]) if (existsSync(join(out, name))) renameSync(join(out, name), join(tmp, name));
  if (existsSync(out)) renameSync(out, old);
  renameSync(tmp, out);
  rmSync(old, { recursive: true, force: true });
  what = `built dist/ (${files.length} files)`;
}
let inputs = recordedInputs(out);
if (!unchanged) {
  inputs = [result, ...fastBundles].flatMap((b) => Object.keys(b.metafile?.inputs ?? {}).concat(b.inputs ?? [])).filter((p) => existsSync(join(root, p)));
  recordInputs(root, out, inputs, startedAt);
}
// What bin/ctb.js compares the checkout's sources with: what this build read, as of when it began
// (a source changed while it ran is newer, and said to be).
if (inputs) recordSources(out, inputs, startedAt);
if (!quiet) process.stderr.write(`${what} in ${Math.round(performance.now() - started)} ms\n`);
const template = ensureTemplate();
if (template && !quiet) process.stderr.write(`${template}\n`);
