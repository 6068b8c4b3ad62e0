// `ctb stats` and `ctb mode status` run from their one-command scripts (bin/fast-script.js, built by
// scripts/build.mjs) and answer exactly as the ES module build's code does: the same output, errors
// and exit codes on a migrated database, a new empty one (migrated by the command), the embedded
// database (PGlite, imported by the script's loader) and databases it cannot use. So do the other
// commands with a script (kill, start, audit, incident, self-heal, alerts, migrate, audit-log, trades,
// reconcile) on a few runs; every other test that spawns them runs their scripts too.
// The script runs as shipped, a child process (node bin/ctb.js). What it is compared with is the ES
// module build's code, runCli (src/cli/run-main.ts runs it in dist/ctb.js), run in this process with
// the environment the child gets: a second child for each answer doubled this file's CPU, and every
// other test that spawns a command without a script runs dist/ctb.js itself. Where a process is what
// differs — the embedded database, which the script's loader imports — both are children.
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fastScriptFor } from '../../bin/fast-script.js';
import { runCli } from '../../src/cli/program.js';
import { ctbIn, type ShellRun } from '../support/ctb-shell.js';
import { ADMIN_URL, createPostgresTestDb, type TestDatabase } from '../support/db.js';
import { localOnly } from '../support/local-only.js';
import { seedHandComputedLedger } from '../support/factories/stats-ledger-fixture.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const BIN = join(ROOT, 'bin/ctb.js'); // a one-command script where there is one
const ESM = join(ROOT, 'dist/ctb.js'); // always the ES module build

type Run = ShellRun;
// The whole of each run's output, however many run at once (ctbIn waits for its output to close).
const run = (entry: string, args: string[], env: Record<string, string>, cwd: string) => ctbIn(cwd, args, env, { entry });

/**
 * `ctb args` as the ES module build runs it (runCli, which dist/ctb.js's entry calls), in this process,
 * with the environment ctbIn gives a child in `cwd`: what it prints on stdout, on stderr (the CLI's
 * logger writes its warnings to process.stderr: taken too while it runs), and its exit code. One at
 * a time: the logger's lines are told from another run's only by that.
 */
let inProcessRunning = false;
async function esm(args: string[], env: Record<string, string>, cwd: string): Promise<Run> {
  if (inProcessRunning) throw new Error('one in-process ctb run at a time');
  inProcessRunning = true;
  let stdout = '';
  let stderr = '';
  const processStderr = process.stderr.write;
  process.stderr.write = ((text: string | Uint8Array, ...rest: unknown[]) => {
    stderr += String(text);
    const done = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
    done?.();
    return true;
  }) as typeof process.stderr.write;
  try {
    const code = await runCli(args, {
      env: localOnly({ PATH: process.env['PATH'] ?? '', HOME: cwd, DATA_DIR: join(cwd, 'data'), LOG_DIR: join(cwd, 'logs'), ...env }, cwd),
      cwd,
      stdout: { write: (text: string, done?: (err?: Error | null) => void) => { stdout += text; done?.(); return true; } },
      stderr: { write: (text: string) => (stderr += text) },
    });
    return { code, signal: null, stdout, stderr };
  } finally {
    process.stderr.write = processStderr;
    inProcessRunning = false;
  }
}

/** The same command from the one-command script (a child) and from the ES module build's code (here), side by side. */
const both = (args: string[], env: Record<string, string>, cwd: string): Promise<[Run, Run]> => Promise.all([run(BIN, args, env, cwd), esm(args, env, cwd)]);

/** What depends on the instant a stats answer is computed at (its window ends now, a snapshot's age): the one thing two runs cannot share. */
const withoutNow = (r: Run): Run => ({
  ...r,
  stdout: r.stdout.replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/g, '<instant>').replace(/"ageSeconds": \d+/g, '"ageSeconds": <age>'),
  // The command log's write is bounded (2 s, commands/run-command.ts): on a loaded machine a fresh
  // embedded database may miss it in either build, which logs it. Not a difference of the builds.
  stderr: r.stderr.replace(/^\[\d\d:\d\d:\d\d\] (?:WARN|ERROR): (could not write the command log|the command log entry is taking over 2 s to write|the late command log entry was written)\b[^\n]*\n/gm, ''),
});

let dir: string;
const urlOf = (name: string) => {
  const u = new URL(ADMIN_URL);
  u.pathname = `/${name}`;
  return u.toString();
};
const empties: string[] = [];
const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });

async function emptyDatabase(): Promise<string> {
  const name = `ctb_fast_${randomBytes(4).toString('hex')}`;
  await admin.unsafe(`create database "${name}"`);
  empties.push(name);
  return urlOf(name);
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ctb-fast-'));
});
afterAll(async () => {
  for (const name of empties) await admin.unsafe(`drop database if exists "${name}" with (force)`);
  await admin.end();
  rmSync(dir, { recursive: true, force: true });
});

// Every test runs one to nine `ctb` processes one after another (the embedded case four, two of them
// starting new embedded databases): tenths of a second each on a quiet machine, seconds on a busy one.
describe('the one-command scripts answer as the ES module build', { timeout: 120_000 }, () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createPostgresTestDb();
  });
  afterAll(async () => db?.close());

  it('the build has a script for ctb stats, mode status, kill, start, audit, incident, self-heal, alerts, migrate, audit-log, trades and reconcile, and for no other command', () => {
    const fast = join(ROOT, 'dist/fast');
    expect(fastScriptFor(fast, ['stats', '--json'])?.script).toBe('stats.cjs');
    expect(fastScriptFor(fast, ['mode', 'status'])?.script).toBe('mode.cjs');
    expect(fastScriptFor(fast, ['kill', '--reason', 'drill'])?.script).toBe('kill.cjs');
    expect(fastScriptFor(fast, ['start', '--role', 'worker'])?.script).toBe('start.cjs');
    expect(fastScriptFor(fast, ['audit'])?.script).toBe('audit.cjs');
    expect(fastScriptFor(fast, ['incident', 'done', '1'])?.script).toBe('incident.cjs');
    expect(fastScriptFor(fast, ['self-heal'])?.script).toBe('self-heal.cjs');
    expect(fastScriptFor(fast, ['alerts', 'list'])?.script).toBe('alerts.cjs');
    expect(fastScriptFor(fast, ['migrate'])?.script).toBe('migrate.cjs');
    expect(fastScriptFor(fast, ['audit-log', '--json'])?.script).toBe('audit-log.cjs');
    expect(fastScriptFor(fast, ['trades'])?.script).toBe('trades.cjs');
    expect(fastScriptFor(fast, ['reconcile', '--json'])?.script).toBe('reconcile.cjs');
    for (const argv of [['mode', 'live'], ['help', 'stats'], ['version'], ['resume'], ['balance'], ['audit-roi'], ['--help']]) expect(fastScriptFor(fast, argv), argv.join(' ')).toBeNull();
    for (const script of ['stats.cjs', 'mode.cjs', 'kill.cjs', 'start.cjs', 'audit.cjs', 'incident.cjs', 'self-heal.cjs', 'alerts.cjs', 'migrate.cjs', 'audit-log.cjs', 'trades.cjs', 'reconcile.cjs']) {
      const text = readFileSync(join(fast, script), 'utf8');
      // One PGlite in a script's process: drizzle's require of it is given the ES module the loader
      // imports, not the CommonJS copy the package's exports name for require (scripts/build.mjs).
      expect(text.includes('__ctbImport("@electric-sql/pglite")'), script).toBe(true);
      expect(text.includes('require("@electric-sql/pglite")'), script).toBe(false);
      // ccxt's Kraken files are imported by the loader too: a script has no import() of its own, and
      // the fallback on a failed one was ccxt's index of every exchange (about 1 CPU-s).
      expect(text.match(/__ctbImport\(new URL\("\.\.\/js\/src\/(kraken|base\/errors)\.js"/g)?.length, script).toBe(2);
    }
  });

  it.each([
    [['stats', '--json']],
    [['stats', '30d']],
    [['stats', '7dd']],
    [['stats', '--chart', 'equity.jpg', '--json']],
    [['stats', '--help']],
    [['mode', 'status', '--json']],
    [['mode', 'status']],
    [['mode', 'status', '--bogus']],
  ])('ctb %j on a migrated PostgreSQL database', async (args) => {
    const env = { DATABASE_URL: db.url };
    const [fast, reference] = await both(args, env, dir);
    expect(withoutNow(fast)).toEqual(withoutNow(reference));
  });

  it('ctb kill, incident, self-heal, start, audit, alerts, migrate, audit-log, trades and reconcile answer as the ES module build', async () => {
    // A kill where no bot's database is (none is made: deterministic, exit 2), the incident and
    // self-heal reports, and the usage errors of start and audit. One after the other: self-heal writes.
    const cases: Array<[string[], Record<string, string>]> = [
      [['kill', '--reason', 'drill', '--json'], { DATA_DIR: join(dir, 'no-database') }],
      [['incident', '--json'], { DATABASE_URL: db.url }],
      [['self-heal', '--json'], { DATABASE_URL: db.url }],
      [['start', '--bogus'], { DATABASE_URL: db.url }],
      [['audit', '--bogus'], { DATABASE_URL: db.url }],
      [['alerts', 'list', '--json'], { DATABASE_URL: db.url }],
      [['migrate'], { DATABASE_URL: db.url }],
      // Its answer lists the commands run so far, the other build's among them: its usage.
      [['audit-log', '--help'], { DATABASE_URL: db.url }],
      [['trades', '--json'], { DATABASE_URL: db.url }],
      [['reconcile', '--json'], { DATABASE_URL: db.url }],
    ];
    for (const [args, env] of cases) {
      const fast = await run(BIN, args, env, dir);
      const reference = await esm(args, env, dir);
      expect(fast.stdout + fast.stderr, args.join(' ')).not.toBe('');
      expect(withoutNow(fast), args.join(' ')).toEqual(withoutNow(reference));
    }
  });

  it('ctb stats on a ledger with trades and equity snapshots, as text, JSON and with --chart (the chart libraries imported by the loader)', async () => {
    const seeded = await createPostgresTestDb();
    try {
      await seedHandComputedLedger(seeded.db);
      const env = { DATABASE_URL: seeded.url };
      // Each run writes its row to the command log (the one-command script too): read back here, as
      // the comparison of outputs cannot see it.
      const trail = postgres(seeded.url, { max: 1, onnotice: () => {} });
      const rows = () => trail<{ source: string; command: string; args: string }[]>`select source, command, args from command_log order by id`;
      try {
        for (const args of [['stats', 'all'], ['stats', '--json']]) {
          const before = (await rows()).length;
          const fast = await run(BIN, args, env, dir);
          expect(fast.code, fast.stderr).toBe(0);
          expect((await rows()).slice(before)).toEqual([expect.objectContaining({ source: 'cli', command: 'stats' })]);
          const reference = await esm(args, env, dir);
          expect(withoutNow(fast)).toEqual(withoutNow(reference));
        }
      } finally {
        await trail.end();
      }
      const charts = [join(dir, 'chart-fast'), join(dir, 'chart-esm')];
      for (const d of charts) mkdirSync(d);
      const args = ['stats', 'all', '--json', '--chart', 'equity.png'];
      const [fast, reference] = await Promise.all([run(BIN, args, env, charts[0]!), esm(args, env, charts[1]!)]);
      expect(fast.code, fast.stderr).toBe(0);
      expect(JSON.parse(fast.stdout).chart).toMatchObject({ points: 6 });
      expect(withoutNow(fast).stdout.replace(charts[0]!, '<dir>')).toEqual(withoutNow(reference).stdout.replace(charts[1]!, '<dir>'));
      const png = readFileSync(join(charts[0]!, 'equity.png'));
      expect(png.subarray(0, 4)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47]));
      expect(png.length).toBeGreaterThan(20_000);
    } finally {
      await seeded.close();
    }
  });

  it('ctb stats --json and mode status --json on a new empty database: both migrate it and answer alike', async () => {
    for (const args of [['stats', '--json'], ['mode', 'status', '--json']]) {
      const [fastUrl, esmUrl] = [await emptyDatabase(), await emptyDatabase()];
      const [fast, reference] = await Promise.all([run(BIN, args, { DATABASE_URL: fastUrl }, dir), esm(args, { DATABASE_URL: esmUrl }, dir)]);
      expect(fast.code, fast.stderr).toBe(0);
      expect(withoutNow(fast)).toEqual(withoutNow(reference));
    }
  });

  it('ctb stats --json and mode status --json on the embedded database', async () => {
    // One embedded database for each build: stats starts it (a new directory, from the template),
    // mode status opens it as it left it. Starting PGlite anew costs a child more CPU than any other
    // step here, and a new start and a later open are both compared this way.
    for (const args of [['stats', '--json'], ['mode', 'status', '--json']]) {
      const [fast, esm] = await Promise.all([run(BIN, args, { DATA_DIR: join(dir, 'data-fast-embedded') }, dir), run(ESM, args, { DATA_DIR: join(dir, 'data-esm-embedded') }, dir)]);
      expect(fast.code, fast.stderr).toBe(0);
      expect(withoutNow(fast)).toEqual({ ...withoutNow(esm), stderr: withoutNow(esm).stderr.replaceAll('data-esm-', 'data-fast-') });
    }
  });

  it('ctb stats and mode status on databases they cannot use: the same message and exit code', async () => {
    const s = createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const closed = (s.address() as AddressInfo).port;
    await new Promise<void>((r) => s.close(() => r()));
    const urls = [
      'postgres://app:pw-secret@127.0.0.1:notaport/ctb',
      `postgres://postgres@127.0.0.1:${closed}/ctb`,
      urlOf(`ctb_fast_missing_${randomBytes(4).toString('hex')}`),
      'mysql://app@127.0.0.1/ctb',
    ];
    // `ctb stats` (text) on the first three is compared so in db/connect-errors-cli.test.ts, which
    // also checks its message: one run of each there, not one there and one here.
    const comparedThere = new Set(urls.slice(0, 3));
    const runs = urls.flatMap((url) => [['stats'], ['stats', '--json'], ['mode', 'status', '--json']]
      .filter((args) => !(args.length === 1 && comparedThere.has(url)))
      .map((args) => ({ url, args })));
    // The scripts' runs side by side (none can write anywhere: no database answers them), each
    // compared with the ES module build's answer (one at a time, in this process) in turn.
    const fastRuns = runs.map(({ url, args }) => run(BIN, args, { DATABASE_URL: url }, dir));
    for (const r of fastRuns) r.catch(() => {}); // each is awaited below, where a failure is reported
    for (const [i, { url, args }] of runs.entries()) {
      const reference = await esm(args, { DATABASE_URL: url }, dir);
      const fast = await fastRuns[i]!;
      expect(fast.code, `${url} ${args.join(' ')}`).not.toBe(0);
      expect(fast, `${url} ${args.join(' ')}`).toEqual(reference);
    }
  });
});
