// Issue 15: each `ctb` subcommand loads only what it uses. The built CLI (bin/ctb.js → dist/, as
// shipped) runs as a child process under a loader hook that lists every module it loads; `--help`,
// `version` and `mode status` must load none of the heavy libraries (charts, Slack, email, ccxt).
// And the command index (names and one-line summaries shown by `ctb --help` without loading any
// command) must say what the commands themselves register.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fastScriptFor } from '../../bin/fast-script.js';
import { cliCommands } from '../../src/cli/commands/index.js';
import type { CliIo } from '../../src/cli/io.js';
import { createPostgresTestDb, type TestDatabase } from '../support/db.js';
import { startFakeKraken } from '../support/fake-kraken.js';
import { TEST_API_KEY, TEST_API_SECRET } from '../support/kraken-test-keys.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const BIN = join(ROOT, 'bin/ctb.js');
const TRACER = join(ROOT, 'tests/support/trace-imports.mjs');
const FAST = join(ROOT, 'dist/fast');

/**
 * Packages that take from 0.1 s to over a second to import and that these commands never use
 * (pino-pretty only writes to a terminal; here output is a pipe, so logs are JSON).
 */
const HEAVY = ['ccxt', 'vega', 'vega-lite', '@resvg/resvg-js', '@slack/bolt', '@slack/web-api', 'nodemailer', 'pino-pretty'];

const heavyIn = (urls: string[]) => HEAVY.filter((pkg) => urls.some((u) => u.includes(`/node_modules/${pkg}/`)));

/** Whether `args` ran from a one-command script (bin/fast-script.js) rather than the ES module build. */
const ranFromScript = (urls: string[]) => !urls.some((u) => u.endsWith('/dist/ctb.js'));

/**
 * The package files bundled into what `args` loaded (esbuild heads each with a `// node_modules/…`
 * line): the dist/ chunks among `urls`, or the whole one-command script it ran from.
 */
const bundledIn = (urls: string[], args: string[]) => {
  const files = ranFromScript(urls)
    ? [join(FAST, fastScriptFor(FAST, args)!.script)]
    : urls.filter((u) => u.includes('/dist/chunks/')).map((u) => new URL(u));
  return [...new Set(files.flatMap((f) => [...readFileSync(f, 'utf8').matchAll(/^\/\/ (node_modules\/\S+)$/gm)].map((m) => m[1]!)))];
};

let dir: string;

/** A preload that prints Node's own modules the process compiled (process.moduleLoadList), at exit. */
const LIST_BUILTINS = join(ROOT, 'tests/support/list-builtins.mjs');

/**
 * `args` under the import tracer (the modules it loaded: `urls`) and, with `listBuiltins`, the preload
 * above too (Node's own modules do not pass the tracer): `builtins`, the built-in modules compiled,
 * undefined when it printed no list; that line is taken out of `stderr`, which is the command's own.
 */
function traced(args: string[], env: Record<string, string> = {}, opts: { cwd?: string; script?: string[]; listBuiltins?: boolean } = {}) {
  const trace = join(dir, `trace-${Math.random().toString(36).slice(2)}.txt`);
  const cwd = opts.cwd ?? dir;
  const run = spawnSync(process.execPath, ['--import', TRACER, ...(opts.listBuiltins ? ['--import', LIST_BUILTINS] : []), ...(opts.script ?? [BIN]), ...args], {
    cwd,
    env: { PATH: process.env.PATH ?? '', HOME: dir, DATA_DIR: join(dir, 'data'), LOG_DIR: join(dir, 'logs'), CTB_TRACE_IMPORTS: trace, ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  let urls: string[] = [];
  try {
    urls = readFileSync(trace, 'utf8').split('\n').filter(Boolean);
  } catch {
    // no module loaded at all: the assertions below say so
  }
  const line = run.stderr.split('\n').find((l) => l.startsWith('BUILTINS '));
  const builtins = line === undefined ? undefined : (JSON.parse(line.slice('BUILTINS '.length)) as string[]);
  return { ...run, stderr: line === undefined ? run.stderr : run.stderr.replace(`${line}\n`, ''), urls, builtins };
}

/** The same, without blocking this process (a fake Kraken in it must answer the child). */
function tracedAsync(args: string[], env: Record<string, string>): Promise<{ status: number | null; stdout: string; stderr: string; urls: string[] }> {
  const trace = join(dir, `trace-${Math.random().toString(36).slice(2)}.txt`);
  const child = spawn(process.execPath, ['--import', TRACER, BIN, ...args], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? '', HOME: dir, DATA_DIR: join(dir, 'data'), LOG_DIR: join(dir, 'logs'), CTB_TRACE_IMPORTS: trace, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += String(d)));
  child.stderr.on('data', (d) => (stderr += String(d)));
  return new Promise((resolve) =>
    child.on('exit', (status) => resolve({ status, stdout, stderr, urls: readFileSync(trace, 'utf8').split('\n').filter(Boolean) })),
  );
}

/**
 * A traced run of `args` with `env` (its built-in modules listed too), shared by every test that reads
 * the same command line's trace or built-ins: one process answers them all (each test still asserts
 * on a real run of it), where each ran its own. The tracer compiles built-ins of its own (its loader
 * hooks' worker), none of those the tests below look for: were it to, a test that wants one absent
 * would fail, never pass (and `ctb --help`, under the tracer too, lists none of them).
 */
const sharedRuns = new Map<string, ReturnType<typeof traced>>();
function tracedOnce(args: string[], env: Record<string, string> = {}) {
  const key = JSON.stringify([args, env]);
  if (!sharedRuns.has(key)) sharedRuns.set(key, traced(args, env, { listBuiltins: true }));
  return sharedRuns.get(key)!;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ctb-lazy-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the built ctb loads only what a command uses', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createPostgresTestDb();
  });
  afterAll(async () => db?.close());

  it('the tracer sees a package import (control: it would catch one)', () => {
    const run = traced([], {}, {
      cwd: ROOT,
      script: ['--input-type=module', '-e', "import { createRequire } from 'node:module'; await import('nodemailer'); createRequire(process.cwd() + '/').resolve('pino-pretty'); createRequire(process.cwd() + '/')('pino-pretty');"],
    });
    expect(run.status, run.stderr).toBe(0);
    // An ES import and a require() are both seen.
    expect(heavyIn(run.urls)).toEqual(['nodemailer', 'pino-pretty']);
  });

  it('ctb --help: the command list, no heavy library', () => {
    const run = tracedOnce(['--help']);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/Usage: ctb/);
    expect(run.stdout).toMatch(/simulate-kraken/);
    expect(run.stdout).toMatch(/simulate-slack/);
    // It ran the build (dist/), not TypeScript, and no package from node_modules at all (commander
    // is in the bundle).
    expect(run.urls.some((u) => u.endsWith('/dist/ctb.js'))).toBe(true);
    expect(run.urls.some((u) => u.endsWith('.ts'))).toBe(false);
    expect(run.urls.filter((u) => u.includes('/node_modules/'))).toEqual([]);
    // Nor the config's schema library or the database driver, bundled in the chunks of the commands that use them.
    expect(bundledIn(run.urls, ['--help']).filter((f) => /^node_modules\/(zod|drizzle-orm|postgres)\//.test(f))).toEqual([]);
  });

  it('ctb version and ctb --version: the same line, no heavy library', () => {
    const version = tracedOnce(['version']);
    expect(version.status, version.stderr).toBe(0);
    expect(heavyIn(version.urls)).toEqual([]);
    const flag = traced(['--version']);
    expect(flag.status, flag.stderr).toBe(0);
    expect(flag.stdout).toBe(version.stdout);
    expect(heavyIn(flag.urls)).toEqual([]);
  });

  it('ctb mode status on PostgreSQL (keys configured): the status, no heavy library', () => {
    const run = traced(['mode', 'status', '--json'], { DATABASE_URL: db.url, KRAKEN_API_KEY: 'a2V5', KRAKEN_API_SECRET: 'c2VjcmV0' });
    expect(run.status, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ ok: true, mode: 'paper' });
    expect(heavyIn(run.urls)).toEqual([]);
  });

  it("ctb kill with a key loads ccxt's Kraken files, not its index of every exchange, and cancels", async () => {
    const kraken = await startFakeKraken({ apiKey: TEST_API_KEY, secret: TEST_API_SECRET });
    try {
      const run = await tracedAsync(['kill', '--reason', 'lazy-load test', '--json'], {
        DATABASE_URL: db.url, KRAKEN_API_URL: kraken.url, KRAKEN_API_KEY: TEST_API_KEY, KRAKEN_API_SECRET: TEST_API_SECRET,
      });
      expect(run.status, run.stderr).toBe(0);
      expect(kraken.callsTo('CancelAll').length).toBeGreaterThan(0);
      expect(run.urls.some((u) => u.endsWith('/node_modules/ccxt/js/src/kraken.js'))).toBe(true);
      expect(run.urls.some((u) => u.endsWith('/node_modules/ccxt/js/ccxt.js'))).toBe(false);
      // Its warnings on stderr are written for the person who ran it (one readable line each, even
      // piped), by the logger's own key=value formatter: no pretty-printing library is loaded, and the
      // first line is the cancel's answer, so nothing the warnings need can hold the cancel up.
      expect(run.stderr.split('\n')[0]).toMatch(/^\[\d\d:\d\d:\d\d\] WARN: kill: first cancel answered /);
      expect(heavyIn(run.urls)).toEqual(['ccxt']);
    } finally {
      await kraken.close();
    }
  });

  it('ctb start with a key and no Slack: ccxt loaded at start (the first kill pays nothing), no Slack, email or chart library', async () => {
    const kraken = await startFakeKraken({ apiKey: TEST_API_KEY, secret: TEST_API_SECRET });
    const trace = join(dir, 'trace-start.txt');
    const child = spawn(process.execPath, ['--import', TRACER, BIN, 'start', '--feed', 'replay'], {
      cwd: dir,
      env: {
        PATH: process.env.PATH ?? '', HOME: dir, DATA_DIR: join(dir, 'data-start'), LOG_DIR: join(dir, 'logs-start'), CTB_TRACE_IMPORTS: trace,
        HOST: '127.0.0.1', PORT: '0', DATABASE_URL: db.url, KRAKEN_API_URL: kraken.url, KRAKEN_API_KEY: TEST_API_KEY, KRAKEN_API_SECRET: TEST_API_SECRET,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    // Ready when its output says so (looked for as each piece arrives), not ready if it exits first or within 60 s.
    let timer: NodeJS.Timeout | undefined;
    const ready = new Promise<void>((resolve, reject) => {
      const seen = (d: Buffer) => {
        output += String(d);
        if (/engine ready/.test(output)) resolve();
      };
      child.stdout.on('data', seen);
      child.stderr.on('data', seen);
      child.on('exit', () => reject(new Error(`ctb start did not get ready:\n${output}`)));
      timer = setTimeout(() => reject(new Error(`ctb start did not get ready:\n${output}`)), 60_000);
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    try {
      await ready;
    } finally {
      clearTimeout(timer);
      child.kill('SIGTERM');
      await exited;
      await kraken.close();
    }
    const urls = readFileSync(trace, 'utf8').split('\n').filter(Boolean);
    expect(heavyIn(urls)).toEqual(['ccxt']);
  }, 120_000);

  it('ctb stats --json on PostgreSQL: no chart library unless --chart', () => {
    const run = tracedOnce(['stats', '--json'], { DATABASE_URL: db.url });
    expect(run.status, run.stderr).toBe(0);
    expect(heavyIn(run.urls)).toEqual([]);
  });

  it("ctb stats --json and mode status: prom-client's registry and counters only, not its index (default process metrics, cluster, OpenTelemetry)", () => {
    for (const args of [['stats', '--json'], ['mode', 'status', '--json']]) {
      const run = tracedOnce(args, { DATABASE_URL: db.url });
      expect(run.status, run.stderr).toBe(0);
      const bundled = bundledIn(run.urls, args);
      // Control: the registry every context has is in what was loaded, so the search below is live.
      expect(bundled, args.join(' ')).toContain('node_modules/prom-client/lib/registry.js');
      expect(bundled.filter((f) => f === 'node_modules/prom-client/index.js' || f.includes('/prom-client/lib/metrics/') || f.includes('@opentelemetry/')), args.join(' ')).toEqual([]);
    }
  });

  it('ctb stats --json and mode status --json load no ES module chunk: each runs from its one-command script', () => {
    for (const args of [['stats', '--json'], ['mode', 'status', '--json']]) {
      const run = tracedOnce(args, { DATABASE_URL: db.url });
      expect(run.status, run.stderr).toBe(0);
      expect(JSON.parse(run.stdout), args.join(' ')).toMatchObject({ ok: true });
      // Control: the tracer saw the binary and its script loader.
      expect(run.urls.filter((u) => u.includes('/bin/')).map((u) => u.replace(/.*\/bin\//, 'bin/')).sort(), args.join(' ')).toEqual(['bin/ctb.js', 'bin/fast-script.js']);
      expect(run.urls.filter((u) => u.includes('/dist/')), args.join(' ')).toEqual([]);
    }
    // Any other command still runs the ES module build.
    const version = tracedOnce(['version']);
    expect(version.status, version.stderr).toBe(0);
    expect(version.urls.some((u) => u.endsWith('/dist/ctb.js'))).toBe(true);
  });

  it('ctb stats --json and mode status write no log line, so they never load pino', () => {
    for (const args of [['stats', '--json'], ['mode', 'status', '--json']]) {
      const run = tracedOnce(args, { DATABASE_URL: db.url });
      expect(run.status, run.stderr).toBe(0);
      expect(run.urls.filter((u) => u.includes('/node_modules/pino/')), args.join(' ')).toEqual([]);
    }
  });

  it("ctb stats --json compiles neither Node's tls nor zlib (postgres.js and the log files call them only for TLS and compression)", () => {
    // Node's own modules do not pass the import tracer: a preload lists those compiled, at exit.
    const builtins = (env: Record<string, string>) => {
      const run = tracedOnce(['stats', '--json'], env);
      expect(run.builtins, run.stderr).toBeDefined();
      return { ...run, loaded: run.builtins!.filter((m) => /^NativeModule (tls|zlib|_tls_wrap)$/.test(m)) };
    };
    const plain = builtins({ DATABASE_URL: db.url });
    expect(plain.status, plain.stderr).toBe(0);
    expect(JSON.parse(plain.stdout)).toMatchObject({ ok: true });
    expect(plain.loaded).toEqual([]);
    // Control: a connection that asks for TLS loads it when it connects (this server may refuse TLS).
    const url = new URL(db.url);
    url.searchParams.set('sslmode', 'require');
    expect(builtins({ DATABASE_URL: url.toString() }).loaded).toContain('NativeModule tls');
  });

  it("ctb stats --json compiles neither Node's child_process nor v8 (commander spawns only an executable subcommand; PGlite's start uses them only on the embedded database)", () => {
    const run = tracedOnce(['stats', '--json'], { DATABASE_URL: db.url });
    expect(run.status, run.stderr).toBe(0);
    expect(run.builtins, run.stderr).toBeDefined();
    expect(run.builtins!.filter((m) => /^NativeModule (child_process|dgram|v8)$/.test(m))).toEqual([]);
  });

  it("ctb --help and ctb version compile neither Node's crypto nor vm (only a one-command script's loader needs them)", () => {
    const builtins = (args: string[], env: Record<string, string> = {}) => {
      const run = tracedOnce(args, env);
      expect(run.status, run.stderr).toBe(0);
      expect(run.builtins, run.stderr).toBeDefined();
      return run.builtins!.filter((m) => /^NativeModule (crypto|vm)$/.test(m)).sort();
    };
    expect(builtins(['--help'])).toEqual([]);
    expect(builtins(['version'])).toEqual([]);
    // Control: the loader of ctb stats's script compiles both.
    expect(builtins(['stats', '--json'], { DATABASE_URL: db.url })).toEqual(['NativeModule crypto', 'NativeModule vm']);
  });

  it('ctb stats --json loads no text renderer or colours; ctb stats (text) does', () => {
    const json = tracedOnce(['stats', '--json'], { DATABASE_URL: db.url });
    expect(json.status, json.stderr).toBe(0);
    expect(json.urls.filter((u) => u.includes('/node_modules/picocolors/'))).toEqual([]);
    const text = traced(['stats'], { DATABASE_URL: db.url });
    expect(text.status, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/paper/);
    expect(text.urls.some((u) => u.includes('/node_modules/picocolors/'))).toBe(true);
  });

  it('a command that logs loads pino when it writes, and its line reaches stderr and LOG_DIR as before (control for the test above)', async () => {
    const own = await createPostgresTestDb();
    try {
      const logs = join(dir, 'logs-pause');
      const run = traced(['pause', '--reason', 'lazy-load control', '--json'], { DATABASE_URL: own.url, LOG_DIR: logs });
      expect(run.status, run.stderr).toBe(0);
      expect(run.urls.some((u) => u.endsWith('/node_modules/pino/pino.js'))).toBe(true);
      expect(run.stderr).toContain('new entries paused by an operator');
      expect(readFileSync(join(logs, 'anomalies.log'), 'utf8')).toContain('new entries paused by an operator');
    } finally {
      await own.close();
    }
  });
});

describe('what the bundle carries', () => {
  it("zod's English messages and none of its other languages (the CLI names no locale; a bundled one is start-up time every command pays)", () => {
    const chunks = readdirSync(join(ROOT, 'dist/chunks')).filter((f) => f.endsWith('.js'));
    const locales = new Set(chunks.flatMap((f) => [...readFileSync(join(ROOT, 'dist/chunks', f), 'utf8').matchAll(/\/\/ node_modules\/zod\/v4\/locales\/([\w-]+)\.js/g)].map((m) => m[1])));
    expect([...locales]).toEqual(['en']);
  });

  it("zod's parser compiler and fromJSONSchema as stand-ins that say so (the CLI calls neither; parsing never imports them)", () => {
    const chunks = readdirSync(join(ROOT, 'dist/chunks')).filter((f) => f.endsWith('.js')).map((f) => readFileSync(join(ROOT, 'dist/chunks', f), 'utf8'));
    const section = (file: string) => {
      const text = chunks.find((c) => c.includes(`// node_modules/zod/v4/${file}\n`));
      expect(text, file).toBeDefined();
      // The module's code runs from its header to the next module's header.
      return text!.split(`// node_modules/zod/v4/${file}\n`)[1]!.split(/^\/\/ node_modules\//m)[0]!;
    };
    for (const file of ['core/compile.js', 'classic/from-json-schema.js']) {
      const code = section(file);
      expect(code, file).toContain('is not bundled in ctb');
      expect(code.length, file).toBeLessThan(2_000);
    }
    // Control: a module zod's parsing uses is bundled whole.
    expect(section('core/parse.js').length).toBeGreaterThan(2_000);
  });
});

describe('the require() each chunk is given', () => {
  const chunks = () => [join(ROOT, 'dist/ctb.js'), ...readdirSync(join(ROOT, 'dist/chunks')).filter((f) => f.endsWith('.js')).map((f) => join(ROOT, 'dist/chunks', f))];
  const BANNER = /^import \{ createRequire as __ctbCreateRequire \} from 'node:module'; const require = __ctbCreateRequire\(import\.meta\.url\);\n/;

  it('is there in every chunk that names require, and only there (a chunk without one pays no module import and createRequire at load)', () => {
    const files = chunks().map((file) => ({ file, text: readFileSync(file, 'utf8') }));
    const naming = files.filter((f) => /\brequire\b/.test(f.text.replace(BANNER, '')));
    // Control: the bundled CommonJS packages (commander among them) go through esbuild's require shim.
    expect(naming.length).toBeGreaterThan(0);
    for (const f of naming) expect(f.text, f.file).toMatch(BANNER);
    const without = files.filter((f) => !naming.includes(f));
    expect(without.length).toBeGreaterThan(naming.length);
    for (const f of without) expect(f.text, f.file).not.toMatch(/__ctbCreateRequire/);
  });

  it("keeps each chunk's source map on its lines once the banner's line is gone", async () => {
    const { SourceMap } = await import('node:module');
    const file = chunks().find((f) => /\bfunction inOneSnapshot\b/.test(readFileSync(f, 'utf8')));
    expect(file).toBeDefined();
    const lines = readFileSync(file!, 'utf8').split('\n');
    expect(lines[0]).not.toMatch(/__ctbCreateRequire/);
    const line = lines.findIndex((l) => /\bfunction inOneSnapshot\b/.test(l));
    const entry = new SourceMap(JSON.parse(readFileSync(`${file}.map`, 'utf8'))).findEntry(line, lines[line]!.indexOf('function')) as { originalSource: string; originalLine: number };
    const source = readFileSync(new URL(entry.originalSource, pathToFileURL(file!)), 'utf8').split('\n');
    expect(entry.originalSource).toMatch(/src\/db\/queries\/stats-ledger\.ts$/);
    expect(source[entry.originalLine]).toMatch(/export function inOneSnapshot/);
  });
});

describe('the command index', () => {
  const io: CliIo = { env: {}, cwd: '/', stdout: { write: () => true }, stderr: { write: () => true } };

  it('lists every command its module registers, with the description the command gives itself', async () => {
    const registered: Array<{ name: string; summary: string }> = [];
    const modules = new Set(cliCommands.map((c) => c.load));
    for (const load of modules) {
      const program = new Command('ctb');
      (await load()).register(program, io, () => {});
      for (const c of program.commands) registered.push({ name: c.name(), summary: c.description() });
    }
    const index = cliCommands.map((c) => ({ name: c.name, summary: c.summary }));
    expect(index.map((c) => c.name).sort()).toEqual(registered.map((c) => c.name).sort());
    for (const r of registered) expect(index.find((c) => c.name === r.name)?.summary, `summary of ${r.name} in src/cli/commands/index.ts`).toBe(r.summary);
  }, 120_000);
});
