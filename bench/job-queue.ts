// The project's own queues as a job queue, with the figures docs/job-queue.md weighs against
// pg-boss and graphile-worker: the alert outbox (the sink writes, the delivery worker drains its
// lanes) and the engine requests (claimed FOR UPDATE SKIP LOCKED by a runner). Real code, real
// PostgreSQL, a fresh database per round; what would leave the process (a mail, an engine action)
// is a fake that records which job ran.
//   (a) enqueue latency, 1,000 one at a time: p50/p99 (also on PGlite, the embedded default)
//   (b) 5,000 queued, drained by 2 worker processes: wall time, and how many ran twice
//   (c) idle enqueue-to-start latency at the shipped cadence (delivery tick every second; runner poll 250 ms)
//   (d) idle database load: transactions per second (pg_stat_database.xact_commit + rollback deltas)
// Anchor, each round: a 1-row insert committed one at a time, 500 of them, on PostgreSQL and on
// PGlite (p50/p99): the least an enqueue can cost on that database at that moment.
//   node --import tsx bench/job-queue.ts [--rounds 3] [--idle-seconds 30] [--outbox-drain-rounds 1] [--only outbox,requests]
// The outbox's drain takes minutes on a loaded machine (one lane, one delivery per transaction), so
// by default only the first round drains it.
import { spawn } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { DeliveryWorker } from '../src/alerts/delivery-worker.js';
import { createOutboxAlertSink } from '../src/alerts/sink.js';
import { persistAlerts } from '../src/alerts/store.js';
import { alertsFeature } from '../src/app/features/alerts.js';
import { buildAppContext } from '../src/app/build-context.js';
import { systemClock } from '../src/clock.js';
import { testConfig } from '../src/config/env.js';
import { connectPostgres, execute, type Db } from '../src/db/client.js';
import { enqueueDelivery } from '../src/db/queries/alert-outbox.js';
import { JobRegistry } from '../src/jobs/registry.js';
import { silentLogger } from '../src/logger.js';
import type { Notifier } from '../src/notifications/notification.js';
import { startRequestRunner } from '../src/services/engine-requests/runner.js';
import { enqueueEngineRequest } from '../src/services/engine-requests/store.js';
import { ADMIN_URL, createPgliteTestDb } from '../tests/support/db.js';
import { postgresAsShipped } from './probes.js';

type QueueName = 'outbox' | 'requests';
const QUEUES: QueueName[] = ['outbox', 'requests'];
const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const load = () => `${loadavg()[0]!.toFixed(2)} (1-min, ${availableParallelism()} cores)`;
const r2 = (n: number) => Math.round(n * 100) / 100;
const config = testConfig({ LOG_LEVEL: 'error' });
const logger = silentLogger();
const EMAIL = { to: ['ops@example.com'], subject: 'bench' };

/** An alert group for email deliveries to hang from (alert_deliveries.group_id is a foreign key). */
async function groupFor(db: Db): Promise<number> {
  const [r] = await persistAlerts({
    db, slackChannel: null,
    batch: [{ at: new Date(), alert: { source: 'bench', severity: 'info', title: 'bench', fingerprint: 'bench', details: {}, test: false } }],
  });
  return r!.groupId;
}

async function enqueueOne(db: Db, queue: QueueName, groupId: number, payload: Record<string, unknown>): Promise<void> {
  if (queue === 'outbox') {
    await enqueueDelivery(db, { groupId, kind: 'email', target: 'ops@example.com', payload: { ...EMAIL, reason: JSON.stringify(payload) }, now: systemClock.now() });
  } else {
    await enqueueEngineRequest(db, systemClock, { kind: 'reconcile', requestedBy: 'bench', params: payload });
  }
}

/** Starts the queue's consumer in this process; `ran` is told each job's payload. */
function consume(db: Db, queue: QueueName, ran: (payload: Record<string, unknown>) => void, opts: { backToBack: boolean }): () => Promise<void> {
  if (queue === 'requests') {
    const runner = startRequestRunner({ db, clock: systemClock, logger }, {
      holder: `bench:${process.pid}`,
      handlers: { reconcile: async (r) => { ran(r.params); return { ok: true, summary: 'ok' }; } },
    });
    return () => runner.stop();
  }
  // The email lane's notifier, faked: the job's payload rides in the delivery's `reason`.
  const email: Notifier = {
    carries: new Set(['alert_email']),
    notify: async (_db, n) => {
      if (n.kind === 'alert_email') ran(JSON.parse(n.reason) as Record<string, unknown>);
      return { channel: 'email', ts: 'bench' };
    },
  };
  const worker = new DeliveryWorker({ db, clock: systemClock, logger, chat: null, email, emailTo: EMAIL.to });
  if (!opts.backToBack) {
    // As shipped: the delivery tick on node-cron every second (src/app/features/alerts.ts).
    const jobs = new JobRegistry(logger);
    jobs.register({ name: 'alert-delivery', schedule: '* * * * * *', trades: false, run: async () => { await worker.tick(); } });
    return () => jobs.stopAll();
  }
  let stopping = false;
  const loop = (async () => {
    while (!stopping) {
      const r = await worker.tick();
      if (r.sent === 0) await sleep(20);
    }
  })();
  return async () => { stopping = true; await loop; };
}

/** A worker process: drains back to back, prints "ready", then one line per job it ran. */
async function child(queue: QueueName, url: string): Promise<void> {
  const database = connectPostgres(url, { max: 2 });
  const stop = consume(database.db, queue, (p) => process.stdout.write(`J ${String(p.i)}\n`), { backToBack: true });
  // The runner's poll timer is unref'd (it never holds a process open): hold this one until told to stop.
  const alive = setInterval(() => {}, 60_000);
  process.stdout.write('ready\n');
  process.on('SIGTERM', () => void stop().then(() => database.close()).then(() => { clearInterval(alive); process.exit(0); }));
}

async function bulkInsert(db: Db, queue: QueueName, groupId: number, n: number): Promise<void> {
  if (queue === 'outbox') {
    await execute(db, sql`
      insert into alert_deliveries (group_id, kind, lane, target, priority, payload, next_attempt_at, created_at)
      select ${groupId}, 'email', 'email', 'ops@example.com', 2,
        jsonb_build_object('to', jsonb_build_array('ops@example.com'), 'subject', 'bench', 'reason', jsonb_build_object('i', g)::text), now(), now()
      from generate_series(0, ${n - 1}) g`);
  } else {
    await execute(db, sql`
      insert into engine_requests (kind, requested_by, requested_at, params)
      select 'reconcile', 'bench', now(), jsonb_build_object('i', g) from generate_series(0, ${n - 1}) g`);
  }
}

async function drain(queue: QueueName, n: number) {
  const database = await postgresAsShipped();
  const groupId = await groupFor(database.db);
  const seen = new Map<number, number>();
  let tEnd = 0;
  let allRan!: () => void;
  const finished = new Promise<void>((r) => { allRan = r; });
  let ready = 0;
  let allReady!: () => void;
  const readyP = new Promise<void>((r) => { allReady = r; });
  const kids = [0, 1].map(() => {
    const p = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', queue, database.url], { stdio: ['ignore', 'pipe', 'inherit'] });
    let buf = '';
    p.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      for (let k = buf.indexOf('\n'); k >= 0; k = buf.indexOf('\n')) {
        const line = buf.slice(0, k);
        buf = buf.slice(k + 1);
        if (line === 'ready') { if (++ready === 2) allReady(); continue; }
        const i = Number(line.slice(2));
        seen.set(i, (seen.get(i) ?? 0) + 1);
        if (seen.size === n && !tEnd) { tEnd = performance.now(); allRan(); }
      }
    });
    return p;
  });
  await readyP;
  await sleep(1000); // both consumers polling an empty queue
  const t0 = performance.now();
  await bulkInsert(database.db, queue, groupId, n);
  const insertMs = performance.now() - t0;
  await Promise.race([finished, sleep(600_000)]);
  await sleep(1000); // a second run of any job would show up here
  for (const p of kids) p.kill('SIGTERM');
  await Promise.all(kids.map((p) => new Promise((r) => p.on('exit', r))));
  await database.close();
  return { drainMs: tEnd ? tEnd - t0 : NaN, insertMs, ran: seen.size, ranTwice: [...seen.values()].filter((c) => c > 1).length };
}

async function enqueueLatency(db: Db, queue: QueueName | 'alert'): Promise<{ p50: number; p99: number }> {
  const groupId = await groupFor(db);
  const sink = createOutboxAlertSink({ db, clock: systemClock, logger, config });
  const one = (i: number) => queue === 'alert'
    ? sink.record({ source: 'system', severity: 'warning', title: `bench ${i}`, fingerprint: `bench-${i}` }).then(() => undefined)
    : enqueueOne(db, queue, groupId, { i });
  for (let i = 0; i < 50; i += 1) await one(-1 - i); // warm the pool and the prepared statements
  const lat: number[] = [];
  for (let i = 0; i < 1000; i += 1) {
    const t = performance.now();
    await one(i);
    lat.push(performance.now() - t);
  }
  lat.sort((a, b) => a - b);
  return { p50: pct(lat, 50), p99: pct(lat, 99) };
}

/** The anchor: a 1-row insert committed, one at a time (after 20 not counted): the least an enqueue costs on that database. */
async function commitLatency(db: Db): Promise<{ p50: number; p99: number }> {
  await execute(db, sql`create table bench_commit_probe (id serial primary key, at timestamptz not null default now())`);
  const lat: number[] = [];
  for (let i = 0; i < 520; i += 1) {
    const t = performance.now();
    await execute(db, sql`insert into bench_commit_probe default values`);
    if (i >= 20) lat.push(performance.now() - t);
  }
  lat.sort((a, b) => a - b);
  return { p50: pct(lat, 50), p99: pct(lat, 99) };
}

async function xacts(admin: postgres.Sql, name: string): Promise<number> {
  const [r] = await admin<{ n: string }[]>`select xact_commit + xact_rollback as n from pg_stat_database where datname = ${name}`;
  return Number(r!.n);
}

/** Enqueue-to-start at the shipped cadence (15 jobs at random gaps), then idle transactions per second. */
async function idle(queue: QueueName, idleSeconds: number) {
  const database = await postgresAsShipped();
  const groupId = await groupFor(database.db);
  let got: ((ms: number) => void) | undefined;
  const stop = consume(database.db, queue, (p) => { if (typeof p.sent === 'number') got?.(Date.now() - p.sent); }, { backToBack: false });
  await sleep(2000);
  const starts: number[] = [];
  for (let i = 0; i < 15; i += 1) {
    await sleep(200 + Math.random() * 1500);
    const started = new Promise<number>((r) => { got = r; });
    await enqueueOne(database.db, queue, groupId, { sent: Date.now() });
    starts.push(await Promise.race([started, sleep(30_000).then(() => NaN)]));
  }
  starts.sort((a, b) => a - b);
  await stop();

  // Idle load, as shipped: for the outbox, the alerts feature (delivery and escalation ticks every
  // second); for the engine requests, the runner polling every 250 ms.
  const ctx = await buildAppContext({ config, logger, database });
  let stopIdle: () => Promise<void>;
  if (queue === 'outbox') {
    const running = await alertsFeature.start(ctx, null as never, { role: 'all', feed: 'replay' });
    stopIdle = async () => { await ctx.jobs.stopAll(); await running?.stop(); };
  } else {
    stopIdle = consume(database.db, 'requests', () => {}, { backToBack: false });
  }
  const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
  await sleep(12_000); // PostgreSQL flushes an idle backend's counters within 10 s
  const x0 = await xacts(admin, database.name);
  await sleep(idleSeconds * 1000);
  const x1 = await xacts(admin, database.name);
  await stopIdle();
  await admin.end();
  await database.close();
  return { startP50: pct(starts, 50), startMax: starts[starts.length - 1]!, idleXactPerS: (x1 - x0) / idleSeconds };
}

async function main(): Promise<void> {
  if (process.argv[2] === '--child') return child(process.argv[3] as QueueName, process.argv[4]!);
  const rounds = arg('rounds', 3);
  const idleSeconds = arg('idle-seconds', 30);
  const drainRounds = arg('outbox-drain-rounds', 1);
  const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1]!.split(',') : QUEUES;
  console.log('what ships: the outbox (alert sink, delivery worker on its email lane, fake email notifier) and the engine requests runner (fake handler); '
    + 'not shipped: the drain runs each consumer back to back in 2 processes instead of on its shipped 1 s / 250 ms cadence, and 50 enqueues before each '
    + 'enqueue-latency measurement warm the pool and are not counted; anchor: a 1-row commit on each database, 500 one at a time');
  console.log(`load before: ${load()}`);
  const rows: Record<string, Record<string, number[]>> = {};
  const add = (who: string, figures: Record<string, number>) => {
    rows[who] ??= {};
    for (const [k, v] of Object.entries(figures)) (rows[who][k] ??= []).push(v);
  };
  for (let r = 1; r <= rounds; r += 1) {
    for (const queue of QUEUES.filter((q) => only.includes(q))) {
      const pgdb = await postgresAsShipped();
      const pgEnq = await enqueueLatency(pgdb.db, queue);
      await pgdb.close();
      const lite = await createPgliteTestDb();
      const liteEnq = await enqueueLatency(lite.db, queue);
      await lite.close();
      const drained = queue === 'outbox' && r > drainRounds ? {} : await drain(queue, 5000);
      const figures = { enqP50: pgEnq.p50, enqP99: pgEnq.p99, pgliteEnqP50: liteEnq.p50, pgliteEnqP99: liteEnq.p99, ...drained, ...(await idle(queue, idleSeconds)) };
      add(queue, figures);
      console.log(`round ${r} ${queue} load ${load()} ${Object.entries(figures).map(([k, v]) => `${k}=${r2(v)}`).join(' ')}`);
    }
    const pgdb = await postgresAsShipped();
    const alert = await enqueueLatency(pgdb.db, 'alert');
    const commit = await commitLatency(pgdb.db);
    await pgdb.close();
    const lite = await createPgliteTestDb();
    const liteCommit = await commitLatency(lite.db);
    await lite.close();
    add('alert (sink.record)', { enqP50: alert.p50, enqP99: alert.p99 });
    console.log(`round ${r} alert sink.record load ${load()} enqP50=${r2(alert.p50)} enqP99=${r2(alert.p99)}`);
    add('anchor (1-row commit)', { p50: commit.p50, p99: commit.p99, pgliteP50: liteCommit.p50, pgliteP99: liteCommit.p99 });
    console.log(`round ${r} anchor 1-row commit load ${load()} p50=${r2(commit.p50)} p99=${r2(commit.p99)} pgliteP50=${r2(liteCommit.p50)} pgliteP99=${r2(liteCommit.p99)}`);
  }
  for (const [who, figures] of Object.entries(rows)) {
    console.log(`median ${who}: ${Object.entries(figures).map(([k, v]) => `${k}=${r2(median(v))}`).join(' ')}`);
  }
  console.log(`load after: ${load()}`);
}

main().then(() => { if (process.argv[2] !== '--child') process.exit(0); }, (err: unknown) => {
  console.error(err);
  process.exit(1);
});
