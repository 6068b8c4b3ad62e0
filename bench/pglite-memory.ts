// Bench: the embedded database on a small machine, on what ships — the demo (`node bin/ctb.js start
// --feed replay`, every default feature, PGlite under a fresh DATA_DIR, no DATABASE_URL, no Slack or
// Kraken variables) in a child process. Per round: the time from spawn to the first 200 of /healthz
// on a fresh data directory (and the CPU seconds it and its initdb child used until then: a figure
// the machine's load disturbs less), its RSS once the demo has run SECONDS (default 60) past that, and its peak RSS; then a second start on the same directory (reopen) to /healthz.
// Anchors measured in the same run, each in its own process: `node -e 0`, and a bare
// `PGlite.create(freshDir)` with PGlite's defaults (its time and its RSS once open).
// Floors (issue 15): RSS after 60 s ≤ 350 MiB, first start ≤ 4 s — judged on the medians.
// The machine's load (1-minute average) is printed before and after.
//   npm run bench:pglite-memory [-- --rounds 3] [--seconds 60]
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '1' }, seconds: { type: 'string', default: '60' } } });
const ROUNDS = Math.max(1, Number(values.rounds));
const SECONDS = Math.max(1, Number(values.seconds));
const ROOT = new URL('..', import.meta.url).pathname;
const TICK = 100; // clock ticks per second in /proc/<pid>/stat (USER_HZ)
const load = () => `load ${loadavg().map((l) => l.toFixed(2)).join(' ')} on ${availableParallelism()} cores`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const FIRST = SECONDS === 60 ? 'shipped configuration' : `NOT the floor's 60 s: RSS read after ${SECONDS} s`;
console.log(`pglite-memory: ctb start --feed replay on a fresh embedded database, ${FIRST}; ${ROUNDS} round(s)`);
console.log(`before: ${load()}`);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.once('error', reject);
  });
}

function rssMiB(pid: number, field: 'VmRSS' | 'VmHWM' = 'VmRSS'): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith(`${field}:`));
  return Number(line?.split(/\s+/)[1] ?? NaN) / 1024;
}

/** The process's CPU seconds, with its children that ended (the initdb child): utime, stime, cutime, cstime. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) / TICK;
}

/** The environment of a first-time user: nothing that points at PostgreSQL, Slack or Kraken. */
function demoEnv(dataDir: string, port: number): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!/^(DATABASE_URL|SLACK_|KRAKEN_|IS_LIVE|MARKET_FEED|DATA_DIR|LOG_DIR|PORT|TEST_)/.test(k)) env[k] = v;
  }
  return { ...env, DATA_DIR: dataDir, LOG_DIR: join(dataDir, 'logs'), PORT: String(port) };
}

async function healthy(port: number, child: ChildProcess, started: number): Promise<number> {
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the bot exited with code ${child.exitCode} before /healthz answered`);
    const ok = await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.status === 200, () => false);
    if (ok) return (performance.now() - started) / 1000;
    if (performance.now() - started > 120_000) throw new Error('no 200 from /healthz within 120 s');
    await sleep(20);
  }
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await Promise.race([exited, sleep(15_000)]);
  if (child.exitCode === null) child.kill('SIGKILL');
}

interface BotStart {
  seconds: number;
  cpu: number;
  child: ChildProcess;
  stderr: () => string;
}

async function startBot(dataDir: string): Promise<BotStart> {
  mkdirSync(dataDir, { recursive: true });
  const port = await freePort();
  const started = performance.now();
  const child = spawn(process.execPath, [join(ROOT, 'bin/ctb.js'), 'start', '--feed', 'replay'], {
    cwd: dataDir, env: demoEnv(dataDir, port), stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.once('error', (e) => {
    err += String(e);
  });
  child.stderr!.on('data', (d: Buffer) => {
    err = (err + d.toString()).slice(-4000);
  });
  try {
    const seconds = await healthy(port, child, started);
    return { seconds, cpu: cpuSeconds(child.pid!), child, stderr: () => err };
  } catch (e) {
    await stop(child);
    throw new Error(`${(e as Error).message}\n${err}`);
  }
}

function nodeE0(): number {
  const t = performance.now();
  spawnSync(process.execPath, ['-e', '0']);
  return (performance.now() - t) / 1000;
}

/** Anchor: PGlite as its package ships, alone in a process: create a fresh directory, report RSS. */
function barePglite(dir: string): { seconds: number; rss: number } {
  const script = `const { PGlite } = await import(${JSON.stringify(import.meta.resolve('@electric-sql/pglite'))});
    const t = performance.now(); const pg = await PGlite.create(${JSON.stringify(dir)});
    const seconds = (performance.now() - t) / 1000; await pg.query('select 1');
    console.log(JSON.stringify({ seconds, rss: process.memoryUsage().rss / 1048576 })); await pg.close();`;
  const out = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  if (out.status !== 0) throw new Error(`bare PGlite failed: ${out.stderr}`);
  return JSON.parse(out.stdout.trim().split('\n').pop()!) as { seconds: number; rss: number };
}

const rows: { first: number; firstCpu: number; rss: number; peak: number; reopen: number; e0: number; bare: number; bareRss: number }[] = [];
for (let round = 1; round <= ROUNDS; round++) {
  const dir = mkdtempSync(join(tmpdir(), 'ctb-bench-pglite-'));
  try {
    const e0 = nodeE0();
    const bare = barePglite(join(dir, 'bare'));
    const first = await startBot(join(dir, 'bot'));
    await sleep(SECONDS * 1000); // the demo running SECONDS after it answered /healthz
    const rss = rssMiB(first.child.pid!);
    const peak = rssMiB(first.child.pid!, 'VmHWM');
    await stop(first.child);
    const again = await startBot(join(dir, 'bot'));
    await stop(again.child);
    const row = { first: first.seconds, firstCpu: first.cpu, rss, peak, reopen: again.seconds, e0, bare: bare.seconds, bareRss: bare.rss };
    rows.push(row);
    console.log(
      `round ${round}: first start → /healthz ${row.first.toFixed(2)} s (CPU ${row.firstCpu.toFixed(2)} s, its initdb child's included), RSS after ${SECONDS} s ${row.rss.toFixed(0)} MiB` +
      ` (peak ${row.peak.toFixed(0)}), reopen → /healthz ${row.reopen.toFixed(2)} s | anchors: node -e 0 ${row.e0.toFixed(2)} s,` +
      ` bare PGlite fresh create ${row.bare.toFixed(2)} s at ${row.bareRss.toFixed(0)} MiB | ${load()}`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const m = (k: keyof (typeof rows)[number]) => median(rows.map((r) => r[k]));
const verdict = (ok: boolean) => (ok ? 'PASS' : 'FAIL');
console.log(`median: first start ${m('first').toFixed(2)} s [floor ≤ 4 s: ${verdict(m('first') <= 4)}], RSS after ${SECONDS} s ${m('rss').toFixed(0)} MiB` +
  ` [floor ≤ 350 MiB: ${verdict(m('rss') <= 350)}], reopen ${m('reopen').toFixed(2)} s; anchors node -e 0 ${m('e0').toFixed(2)} s,` +
  ` bare PGlite create ${m('bare').toFixed(2)} s / ${m('bareRss').toFixed(0)} MiB`);
console.log(`after: ${load()}`);
