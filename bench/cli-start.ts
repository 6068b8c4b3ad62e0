// CLI start-up bench, on what ships: the built CLI (scripts/build.mjs rebuilds dist/ from the
// sources first, as `npm ci` does), each command a new `node bin/ctb.js …` process from a cold shell
// (nothing preloaded, no daemon), timed from spawn to exit, beside `node -e 0` spawned the same way
// in the same run. Rounds are interleaved (one of each command per round) so load drifts hit every
// command alike; every round is counted (none discarded as warm-up).
//   - `ctb --help`, `ctb version`, `ctb mode status --json`, `ctb stats --json` (PostgreSQL: a
//     migrated database created here);
//   - `ctb kill` with a Kraken key, KRAKEN_RATE_LIMIT at its default (on), from spawn to Kraken's
//     CancelAll arriving at a local fake Kraken (tests/support/fake-kraken.ts: the simulator);
//   - `ctb start --feed replay` on PostgreSQL, from spawn to the first 200 from GET /healthz
//     (polled every 5 ms), then stopped with SIGTERM before the next round.
// Floors (issue 15): --help ≤ 3× node -e 0, stats --json ≤ 6× node -e 0, kill ≤ 1 s, start → /healthz ≤ 1.5 s.
//   npm run bench:cli-start [-- --rounds 9]
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type TestDatabase } from '../tests/support/db.js';
import { startFakeKraken, type FakeKraken } from '../tests/support/fake-kraken.js';
import { freePort, healthzOk, load, median, postgresAsShipped } from './probes.js';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const ROUNDS = arg('rounds', 9);
const ROOT = new URL('..', import.meta.url).pathname;
const BIN = join(ROOT, 'bin/ctb.js');

interface Run {
  ms: number;
  code: number | null;
  output: string;
}

/** Spawns `args` with node, resolves at exit with the time from spawn; `until` may end the clock earlier. */
function timed(args: string[], env: Record<string, string>, cwd: string, opts: { clock?: (started: number) => Promise<number> } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output = (output + String(d)).slice(-8_000)));
    child.stderr.on('data', (d) => (output = (output + String(d)).slice(-8_000)));
    const stopped = opts.clock?.(started);
    child.on('error', reject);
    child.on('exit', (code) => {
      const exitedAt = performance.now();
      if (!stopped) return resolve({ ms: exitedAt - started, code, output });
      stopped.then((at) => resolve({ ms: at - started, code, output }), reject);
    });
  });
}

/** `ctb start --feed replay` until /healthz answers 200; then SIGTERM and wait for its exit. */
async function startToHealthz(env: Record<string, string>, cwd: string): Promise<Run> {
  const port = await freePort();
  const started = performance.now();
  const child = spawn(process.execPath, [BIN, 'start', '--feed', 'replay'], { cwd, env: { ...env, PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => (output = (output + String(d)).slice(-8_000)));
  child.stderr.on('data', (d) => (output = (output + String(d)).slice(-8_000)));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  let healthyAt = 0;
  const deadline = started + 60_000;
  while (!healthyAt) {
    if (child.exitCode !== null) throw new Error(`ctb start exited ${child.exitCode} before /healthz answered:\n${output}`);
    if (performance.now() > deadline) throw new Error(`ctb start: no 200 from /healthz within 60 s:\n${output}`);
    if (await healthzOk(port)) healthyAt = performance.now();
    else await sleep(5);
  }
  child.kill('SIGTERM');
  const code = await Promise.race([exited, sleep(15_000).then(() => 'timeout' as const)]);
  if (code === 'timeout') {
    child.kill('SIGKILL');
    throw new Error(`ctb start did not stop within 15 s of SIGTERM:\n${output}`);
  }
  return { ms: healthyAt - started, code: 0, output };
}

interface Item {
  label: string;
  run: () => Promise<Run>;
  samples: number[];
}

async function main() {
  const loadBefore = load();
  // What ships is what `npm ci` builds: rebuild from the sources so a stale dist/ is never measured.
  execFileSync(process.execPath, [join(ROOT, 'scripts/build.mjs'), '--quiet'], { stdio: 'inherit' });

  const dir = mkdtempSync(join(tmpdir(), 'ctb-bench-cli-'));
  const queries: TestDatabase = await postgresAsShipped();
  const killDb: TestDatabase = await postgresAsShipped();
  const startDb: TestDatabase = await postgresAsShipped();
  const arrivals: number[] = [];
  const kraken: FakeKraken = await startFakeKraken({
    balances: { ZUSD: '10000.0000' },
    onRequestStart: (path, at) => {
      if (path.endsWith('/0/private/CancelAll')) arrivals.push(at);
    },
  });
  const base = { PATH: process.env['PATH'] ?? '', HOME: dir, DATA_DIR: join(dir, 'data'), LOG_DIR: join(dir, 'logs'), HOST: '127.0.0.1' };
  const check = (label: string, expect: (r: Run) => boolean) => (r: Run) => {
    if (!expect(r)) throw new Error(`${label}: unexpected result (exit ${r.code}):\n${r.output}`);
    return r;
  };

  const items: Item[] = [
    { label: 'node -e 0', run: async () => check('node -e 0', (r) => r.code === 0)(await timed(['-e', '0'], base, dir)), samples: [] },
    {
      label: 'ctb --help',
      run: async () => check('ctb --help', (r) => r.code === 0 && r.output.includes('Usage: ctb'))(await timed([BIN, '--help'], base, dir)),
      samples: [],
    },
    { label: 'ctb version', run: async () => check('ctb version', (r) => r.code === 0)(await timed([BIN, 'version'], base, dir)), samples: [] },
    {
      label: 'ctb mode status --json',
      run: async () =>
        check('ctb mode status', (r) => r.code === 0 && r.output.includes('"mode"'))(await timed([BIN, 'mode', 'status', '--json'], { ...base, DATABASE_URL: queries.url }, dir)),
      samples: [],
    },
    {
      label: 'ctb stats --json',
      run: async () => check('ctb stats', (r) => r.code === 0 && r.output.includes('"ok"'))(await timed([BIN, 'stats', '--json'], { ...base, DATABASE_URL: queries.url }, dir)),
      samples: [],
    },
    {
      label: 'ctb kill → CancelAll at Kraken',
      run: async () => {
        const seen = arrivals.length;
        // One key per process, as Kraken's nonces are per key; the account is the same.
        const env = {
          ...base, DATABASE_URL: killDb.url, KRAKEN_API_URL: kraken.url,
          KRAKEN_API_KEY: randomBytes(28).toString('hex'), KRAKEN_API_SECRET: randomBytes(64).toString('base64'),
        };
        const run = await timed([BIN, 'kill', '--reason', 'bench', '--json'], env, dir, {
          clock: async () => {
            const deadline = performance.now() + 30_000;
            while (arrivals.length === seen) {
              if (performance.now() > deadline) throw new Error('ctb kill: no CancelAll at the fake Kraken within 30 s');
              await sleep(1);
            }
            return arrivals[seen]!;
          },
        });
        if (arrivals.length === seen) throw new Error(`ctb kill exited ${run.code} without a CancelAll:\n${run.output}`);
        return check('ctb kill', (r) => r.code === 0)(run);
      },
      samples: [],
    },
    { label: 'ctb start → /healthz (PostgreSQL)', run: () => startToHealthz({ ...base, DATABASE_URL: startDb.url }, dir), samples: [] },
  ];

  try {
    for (let round = 0; round < ROUNDS; round++) {
      process.stderr.write(`bench: round ${round + 1}/${ROUNDS}\n`);
      for (const item of items) item.samples.push((await item.run()).ms);
    }
  } finally {
    await kraken.close();
    await Promise.all([queries.close(), killDb.close(), startDb.close()]);
    rmSync(dir, { recursive: true, force: true });
  }
  const loadAfter = load();

  const anchor = median(items[0]!.samples);
  const floors: Record<string, { test: (ms: number) => boolean; text: string }> = {
    'ctb --help': { test: (ms) => ms <= 3 * anchor, text: '≤ 3× node -e 0' },
    'ctb stats --json': { test: (ms) => ms <= 6 * anchor, text: '≤ 6× node -e 0' },
    'ctb kill → CancelAll at Kraken': { test: (ms) => ms <= 1_000, text: '≤ 1000 ms' },
    'ctb start → /healthz (PostgreSQL)': { test: (ms) => ms <= 1_500, text: '≤ 1500 ms' },
  };
  console.log(
    'cli-start bench, as shipped: the built CLI (dist/, rebuilt first), a new node process per command, every round counted; ' +
      'flattering: the OS file cache is warm after round 1, the ledger is empty, Kraken is a local fake on loopback, start uses the replay feed (no Kraken public API) and no Slack (the default)',
  );
  console.log(`${ROUNDS} rounds, ${availableParallelism()} cores, node ${process.version}, load average before ${loadBefore}, after ${loadAfter}`);
  console.log(`anchor: node -e 0 median ${anchor.toFixed(0)} ms (same run, spawned the same way)`);
  let pass = true;
  for (const item of items) {
    const m = median(item.samples);
    const floor = floors[item.label];
    const ok = floor ? floor.test(m) : true;
    pass &&= ok;
    const verdict = floor ? `${ok ? 'ok' : 'OVER'} (floor ${floor.text})` : '';
    console.log(`  ${item.label.padEnd(36)} median ${m.toFixed(0).padStart(5)} ms  ${(m / anchor).toFixed(2).padStart(5)}× node -e 0   ${verdict}`);
    console.log(`    rounds (ms): ${item.samples.map((s) => s.toFixed(0)).join(' ')}`);
  }
  console.log(pass ? 'PASS: every floor met' : 'FAIL: a floor is not met');
  process.exit(pass ? 0 : 1);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
