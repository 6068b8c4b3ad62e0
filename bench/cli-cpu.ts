// CLI CPU bench: the CPU-seconds (user + system) one `ctb` process costs the machine, per command, as
// the tests and an operator's shell run it — the built CLI (scripts/build.mjs rebuilds dist/ first),
// a new `node bin/ctb.js …` process each time, against local fakes. Where bench:cli-start times what
// a person waits for, this counts what the machine spends: `npm test` spawns some 340 of these and
// is CPU-bound on 2 cores (issue 15). Each process's CPU is read from the kernel when it has exited
// (/proc: the cumulative children's time of a shell that waited for it), so nothing is left out —
// start-up, the work, and the exit. Linux only.
//   - `ctb stats --json`, `ctb mode status --json` on PostgreSQL (a migrated database created here);
//   - `ctb kill --reason bench` with a Kraken key at a local fake Kraken holding two open orders, on
//     a fresh PostgreSQL database each time (exit 0: cancelled and confirmed, halt recorded);
//   - `ctb kill` without a key, no bot running, on a database whose ledger once held a live order
//     (exit 1: the cancel is queued for a bot, as the tests' keyless kills do);
//   - `ctb start --role worker` on PostgreSQL, the replay feed at one candle an hour (a bot that waits,
//     as most tests' engines do), and `ctb start --feed replay` (the demo's pace) on PostgreSQL and on
//     a fresh embedded PGlite DATA_DIR: the CPU to the
//     first 200 of /healthz, then over the next IDLE seconds of a running bot (what it costs while a
//     test talks to it), then in all once SIGTERM has stopped it.
// Anchor: `node -e 0`, measured the same way in the same rounds. Every round counted, none discarded.
// A/B: `--against DIR` runs DIR/bin/ctb.js (another checkout, built) in the same rounds, alternating
// which goes first, so load drifts hit both alike.
//   npm run bench:cli-cpu [-- --rounds 5] [--idle 5] [--against /path/to/other/checkout] [--only kill,start-pg] [--prof DIR]
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type TestDatabase } from '../tests/support/db.js';
import { startFakeKraken, type FakeKraken } from '../tests/support/fake-kraken.js';
import { recordLiveOrderEver } from '../tests/support/live-order-ever.js';
import { freePort, healthzOk, load, median, postgresAsShipped } from './probes.js';

const value = (name: string) => {
  const joined = process.argv.find((a) => a.startsWith(`--${name}=`));
  if (joined) return joined.slice(name.length + 3);
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const ROUNDS = Number(value('rounds') ?? 5);
const IDLE_S = Number(value('idle') ?? 5);
const AGAINST = value('against');
const ONLY = value('only')?.split(',');
/** V8 CPU profiles of every ctb process into this directory (they cost CPU themselves: compare like with like). */
const PROF = value('prof');
const ROOT = new URL('..', import.meta.url).pathname;

if (!Number.isInteger(ROUNDS) || ROUNDS < 1 || !(IDLE_S >= 0)) {
  process.stderr.write('bench:cli-cpu: --rounds expects a whole number of at least 1, --idle a number of seconds\n');
  process.exit(2);
}

/** Linux's USER_HZ: /proc counts CPU time in hundredths of a second. */
const TICK_S = 0.01;
/** utime, stime, cutime, cstime of a /proc/<pid>/stat line, in seconds. */
function statCpu(line: string): { self: number; children: number } {
  const f = line.slice(line.lastIndexOf(') ') + 2).trim().split(' ');
  return { self: (Number(f[11]) + Number(f[12])) * TICK_S, children: (Number(f[13]) + Number(f[14])) * TICK_S };
}
const procCpu = (pid: number) => {
  try {
    return statCpu(readFileSync(`/proc/${pid}/stat`, 'utf8')).self;
  } catch {
    return null;
  }
};

// The process runs under a shell that waits for it, then reads its own /proc stat: the children's
// time there is the process's whole CPU, to its last instruction. `read` is a builtin (no process).
const WRAP = 'out=$1; shift; "$@"; code=$?; read -r stat < /proc/$$/stat; printf "%s\\n" "$stat" > "$out"; exit $code';

interface Child {
  /** The node process (the shell's child), once it has started. */
  nodePid(): number | null;
  output(): string;
  /** Exit code and CPU-seconds of the node process, once it has exited. */
  done: Promise<{ code: number | null; cpuS: number }>;
}

function run(args: string[], env: Record<string, string>, cwd: string): Child {
  const statFile = join(cwd, `stat-${randomBytes(4).toString('hex')}`);
  const nodeArgs = PROF && args[0] !== '-e' ? ['--cpu-prof', `--cpu-prof-dir=${resolve(PROF)}`] : [];
  const sh = spawn('/bin/sh', ['-c', WRAP, 'sh', statFile, process.execPath, ...nodeArgs, ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  sh.stdout.on('data', (d) => (output = (output + String(d)).slice(-8_000)));
  sh.stderr.on('data', (d) => (output = (output + String(d)).slice(-8_000)));
  const done = new Promise<{ code: number | null; cpuS: number }>((resolveDone, reject) => {
    sh.on('error', reject);
    sh.on('exit', (code) => {
      try {
        const cpuS = statCpu(readFileSync(statFile, 'utf8')).children;
        rmSync(statFile, { force: true });
        resolveDone({ code, cpuS });
      } catch (err) {
        reject(new Error(`no CPU figure for node ${args.join(' ')} (exit ${code}): ${String(err)}\n${output}`));
      }
    });
  });
  return {
    nodePid() {
      try {
        const pid = Number(readFileSync(`/proc/${sh.pid}/task/${sh.pid}/children`, 'utf8').trim().split(' ')[0]);
        return Number.isInteger(pid) && pid > 0 ? pid : null;
      } catch {
        return null;
      }
    },
    output: () => output,
    done,
  };
}

type Figures = Record<string, number>;

/** A one-shot command: its CPU-seconds, checked by its exit code. */
async function oneShot(label: string, args: string[], env: Record<string, string>, cwd: string, expectCode: number): Promise<Figures> {
  const child = run(args, env, cwd);
  const { code, cpuS } = await child.done;
  if (code !== expectCode) throw new Error(`${label}: exit ${code}, expected ${expectCode}:\n${child.output()}`);
  return { cpu: cpuS };
}

/** `ctb start --feed replay`: CPU to /healthz, over the next IDLE_S seconds, and in all once stopped by SIGTERM. */
async function startFigures(bin: string, env: Record<string, string>, cwd: string, args = ['start', '--feed', 'replay']): Promise<Figures> {
  const port = await freePort();
  const child = run([bin, ...args], { ...env, PORT: String(port) }, cwd);
  let exited = false;
  void child.done.then(() => (exited = true), () => (exited = true));
  const deadline = performance.now() + 60_000;
  let pid: number | null = null;
  for (;;) {
    pid ??= child.nodePid();
    if (exited) throw new Error(`ctb start exited before /healthz answered:\n${child.output()}`);
    if (performance.now() > deadline) throw new Error(`ctb start: no 200 from /healthz within 60 s:\n${child.output()}`);
    if (pid !== null && (await healthzOk(port))) break;
    await sleep(5);
  }
  const atHealthz = procCpu(pid) ?? NaN;
  await sleep(IDLE_S * 1000);
  const afterIdle = procCpu(pid) ?? NaN;
  process.kill(pid, 'SIGTERM');
  const stopped = await Promise.race([child.done, sleep(20_000).then(() => null)]);
  if (!stopped) {
    process.kill(pid, 'SIGKILL');
    throw new Error(`ctb start did not stop within 20 s of SIGTERM:\n${child.output()}`);
  }
  return { healthz: atHealthz, [`idle ${IDLE_S}s`]: afterIdle - atHealthz, total: stopped.cpuS };
}

interface Case {
  name: string;
  run: (bin: string) => Promise<Figures>;
}

async function main() {
  const loadBefore = load();
  execFileSync(process.execPath, [join(ROOT, 'scripts/build.mjs'), '--quiet'], { stdio: 'inherit' });
  const bins: Array<{ label: string; bin: string }> = [{ label: 'this', bin: join(ROOT, 'bin/ctb.js') }];
  if (AGAINST) bins.push({ label: 'against', bin: join(resolve(AGAINST), 'bin/ctb.js') });

  const dir = mkdtempSync(join(tmpdir(), 'ctb-bench-cpu-'));
  const databases: TestDatabase[] = [];
  const database = async () => {
    const db = await postgresAsShipped();
    databases.push(db);
    return db;
  };
  const queries = await database();
  const startDb = await database();
  const keyless = await database();
  await recordLiveOrderEver(keyless.db);
  const kraken: FakeKraken = await startFakeKraken({ balances: { ZUSD: '10000.0000' } });
  const base = { PATH: process.env['PATH'] ?? '', HOME: dir, LOG_DIR: join(dir, 'logs'), HOST: '127.0.0.1', LOG_LEVEL: 'warn' };
  const fresh = (name: string) => mkdtempSync(join(dir, `${name}-`));

  const allCases: Case[] = [
    { name: 'node -e 0', run: () => oneShot('node -e 0', ['-e', '0'], base, dir, 0) },
    { name: 'stats', run: (bin) => oneShot('ctb stats', [bin, 'stats', '--json'], { ...base, DATABASE_URL: queries.url }, dir, 0) },
    { name: 'mode-status', run: (bin) => oneShot('ctb mode status', [bin, 'mode', 'status', '--json'], { ...base, DATABASE_URL: queries.url }, dir, 0) },
    {
      name: 'kill',
      run: async (bin) => {
        const db = await database();
        await recordLiveOrderEver(db.db);
        for (const txid of ['OPEN-1', 'OPEN-2']) {
          kraken.addOrder({ txid: `${txid}-${randomBytes(3).toString('hex')}`, pair: 'XBTUSD', type: 'buy', ordertype: 'limit', price: '40000', vol: '0.01', vol_exec: '0', status: 'open', opentm: 1 });
        }
        // One key per process, as Kraken's nonces are per key.
        const env = {
          ...base, DATA_DIR: fresh('kill'), DATABASE_URL: db.url, KRAKEN_API_URL: kraken.url,
          KRAKEN_API_KEY: randomBytes(28).toString('hex'), KRAKEN_API_SECRET: randomBytes(64).toString('base64'),
        };
        try {
          return await oneShot('ctb kill', [bin, 'kill', '--reason', 'bench'], env, dir, 0);
        } finally {
          await db.close();
          databases.splice(databases.indexOf(db), 1);
        }
      },
    },
    {
      name: 'kill-keyless',
      run: (bin) => oneShot('ctb kill (no key)', [bin, 'kill', '--reason', 'bench'], { ...base, DATA_DIR: fresh('keyless'), DATABASE_URL: keyless.url, KRAKEN_API_URL: 'http://127.0.0.1:3' }, dir, 1),
    },
    { name: 'start-pg', run: (bin) => startFigures(bin, { ...base, DATA_DIR: fresh('start-pg'), DATABASE_URL: startDb.url, KRAKEN_API_URL: 'http://127.0.0.1:3' }, dir) },
    {
      name: 'start-worker',
      run: (bin) => startFigures(bin, { ...base, DATA_DIR: fresh('start-worker'), DATABASE_URL: startDb.url, KRAKEN_API_URL: 'http://127.0.0.1:3', MARKET_FEED: 'replay', REPLAY_INTERVAL: '1h' }, dir, ['start', '--role', 'worker']),
    },
    { name: 'start-pglite', run: (bin) => startFigures(bin, { ...base, DATA_DIR: fresh('start-pglite'), KRAKEN_API_URL: 'http://127.0.0.1:3' }, dir) },
  ];
  const cases = allCases.filter((c) => !ONLY || c.name === 'node -e 0' || ONLY.includes(c.name));

  // results[case][bin label][figure] = samples
  const results = new Map<string, Map<string, Map<string, number[]>>>();
  const record = (c: string, b: string, figures: Figures) => {
    const byBin = results.get(c) ?? new Map<string, Map<string, number[]>>();
    results.set(c, byBin);
    const byFigure = byBin.get(b) ?? new Map<string, number[]>();
    byBin.set(b, byFigure);
    for (const [k, v] of Object.entries(figures)) byFigure.set(k, [...(byFigure.get(k) ?? []), v]);
  };
  try {
    for (let round = 0; round < ROUNDS; round++) {
      process.stderr.write(`bench: round ${round + 1}/${ROUNDS}, load ${load()}\n`);
      const order = round % 2 === 0 ? bins : [...bins].reverse();
      for (const c of cases) {
        if (c.name === 'node -e 0') record(c.name, '', await c.run(''));
        else for (const b of order) record(c.name, b.label, await c.run(b.bin));
      }
    }
  } finally {
    await kraken.close();
    await Promise.all(databases.map((db) => db.close()));
    rmSync(dir, { recursive: true, force: true });
  }

  console.log(
    'cli-cpu bench, as shipped: the built CLI (dist/, rebuilt first), CPU-seconds (user+system) of each node process from the kernel; '
      + 'flattering: local fakes on loopback (Kraken, no Slack), empty ledgers, a warm OS file cache after round 1',
  );
  console.log(`${ROUNDS} rounds, idle ${IDLE_S} s, ${availableParallelism()} cores, node ${process.version}, load average before ${loadBefore}, after ${load()}`);
  if (AGAINST) console.log(`this: ${bins[0]!.bin}\nagainst: ${bins[1]!.bin}`);
  const anchor = median(results.get('node -e 0')?.get('')?.get('cpu') ?? [NaN]);
  console.log(`anchor: node -e 0 median ${anchor.toFixed(2)} CPU-s (same rounds)`);
  for (const [name, byBin] of results) {
    if (name === 'node -e 0') continue;
    for (const [label, byFigure] of byBin) {
      const parts = [...byFigure].map(([k, v]) => `${k} ${median(v).toFixed(2)}`);
      console.log(`  ${name.padEnd(13)} ${AGAINST ? label.padEnd(8) : ''} median CPU-s: ${parts.join(', ')}`);
      for (const [k, v] of byFigure) console.log(`      ${k} rounds: ${v.map((s) => s.toFixed(2)).join(' ')}`);
    }
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
