// Alert storm bench: per round, 10,000 alerts over 50 fingerprints fired within 10 s into the outbox
// on the real PostgreSQL (a fresh database each round), while the alerts feature (node-cron delivery
// + escalation ticks) delivers to a local fake Slack. Prints per round and over the rounds: alerts
// persisted (must be all), p50/p99/max time to persist (floor: p99 < 20 ms, judged on the median of
// the rounds' p99s), Slack messages per channel per second (must stay ≤ 1 in every calendar second
// of every round), what is still queued (kept, not dropped), and peak memory.
// Anchor, measured alongside the storm in each round: a 1-row insert committed every 50 ms on a
// connection of its own (not the storm's pool, whose queue would be in it): the disk's own commit
// time at that moment, below which no alert can persist. And the disk's own flush (an 8 kB write and
// fdatasync every 50 ms, in the OS temp directory): the floor is printed beside it, and when its p99 is
// over the floor the bench says no durable commit can meet it there at that moment. Under the persist
// line, what each persist was made of (the writer's batch timings: waiting for its batch, then the
// batch's statement and commit).
// Not shipped, named in the first output line: the test configuration (LOG_LEVEL error) with a
// silent logger, Slack a local fake on loopback, and a warm-up before each storm (the pool's
// connections opened and a tick run, as in a bot that has been running).
// `--raise`: each alert goes in through sink.raise, as the bot's raisers send it (its own key, and the
// stall watch: a KILL_DB_TIMEOUT timer armed and cleared per alert), not sink.record (the write alone).
//   npm run bench:alerts [-- --rounds 3] [--alerts 10000] [--fingerprints 50] [--seconds 10] [--observe 20] [--drain] [--no-deliver] [--raise]
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { open as openFile, rm, stat } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { sql } from 'drizzle-orm';
import { alertsFeature } from '../src/app/features/alerts.js';
import type { OutboxAlertSink } from '../src/alerts/sink.js';
import { WRITER_BATCHES, type WriterBatchTiming } from '../src/alerts/store.js';
import type { AlertInput, Severity } from '../src/alerts/types.js';
import { buildAppContext } from '../src/app/build-context.js';
import { testConfig } from '../src/config/env.js';
import { connectPostgres, execute } from '../src/db/client.js';
import { silentLogger } from '../src/logger.js';
import { startFakeSlack } from '../tests/support/fake-slack.js';
import { postgresAsShipped } from './probes.js';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const ROUNDS = Math.max(1, arg('rounds', 3));
const TOTAL = arg('alerts', 10_000);
const FINGERPRINTS = arg('fingerprints', 50);
const SECONDS = arg('seconds', 10);
const OBSERVE = arg('observe', 20);
const DRAIN = process.argv.includes('--drain');
const DELIVER = !process.argv.includes('--no-deliver');
const VIA_RAISE = process.argv.includes('--raise');
const FLOOR_P99_MS = 20;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const load = () => `load ${loadavg().map((x) => x.toFixed(2)).join(' ')} on ${availableParallelism()} cores`;

interface Storm {
  allPersisted: boolean;
  p99: number;
  probeP99: number;
  diskP99: number;
  worstSecond: number;
  pending: number;
}

async function storm(round: number): Promise<Storm> {
  const database = await postgresAsShipped();
  // The commit probe's own connection: through the storm's pool it would wait in the storm's queue.
  const probeDb = connectPostgres(database.url, { max: 1 });
  const slack = await startFakeSlack();
  const config = testConfig({
    SLACK_BOT_TOKEN: 'xoxb-0000-bench-not-a-real-token', SLACK_SIGNING_SECRET: 'bench', SLACK_API_URL: slack.url,
    SLACK_ALERTS_CHANNEL: 'C0ALERTS', SLACK_APPROVERS: 'UAPPROVER1,UAPPROVER2', LOG_LEVEL: 'error',
  });
  const ctx = await buildAppContext({ config, logger: silentLogger(), database });
  const sink = ctx.alerts as OutboxAlertSink;
  let peakRss = 0;
  let peakHeap = 0;
  const sampler = setInterval(() => {
    const m = process.memoryUsage();
    peakRss = Math.max(peakRss, m.rss);
    peakHeap = Math.max(peakHeap, m.heapUsed);
  }, 50);
  const running = DELIVER ? await alertsFeature.start(ctx, null as never, { role: 'all', feed: 'replay' }) : undefined;

  // Warm-up, as a bot that has been running would be: the pool's connections are open (a storm
  // should not pay TCP and authentication) and a tick has run. No alert is written by it.
  await Promise.all(Array.from({ length: 6 }, () => execute(ctx.db, sql`select pg_sleep(0.02)`)));
  await execute(probeDb.db, sql`create table bench_commit_probe (id serial primary key, at timestamptz not null default now())`);
  await sleep(1500);

  // The disk's own floor, measured alongside: a one-row insert committed every 50 ms. Time to
  // persist cannot be below this commit (the WAL flush) on the same disk at the same moment.
  const probe: number[] = [];
  let probing = true;
  const probeLoop = (async () => {
    while (probing) {
      const t0 = performance.now();
      await execute(probeDb.db, sql`insert into bench_commit_probe default values`);
      probe.push(performance.now() - t0);
      await sleep(50);
    }
  })();
  // The disk's own flush, below PostgreSQL: an 8 kB write and fdatasync (PostgreSQL's wal_sync_method
  // here) every 50 ms, on the libuv pool (never the event loop), in a file under the OS temp directory.
  const disk: number[] = [];
  const diskFile = join(tmpdir(), `ctb-bench-fsync-${process.pid}`);
  const diskLoop = (async () => {
    const fh = await openFile(diskFile, 'w');
    const page = Buffer.alloc(8192, 1);
    try {
      while (probing) {
        await fh.write(page, 0, page.length, 0);
        const t0 = performance.now();
        await fh.datasync();
        disk.push(performance.now() - t0);
        await sleep(50);
      }
    } finally {
      await fh.close();
      await rm(diskFile, { force: true });
    }
  })();
  // What each persist time is made of: the wait for its batch to start, and its batch's statement
  // and commit (store.ts publishes each batch's timing while someone listens).
  const timings: WriterBatchTiming[] = [];
  const onBatch = (t: unknown) => void timings.push(t as WriterBatchTiming);
  subscribe(WRITER_BATCHES.name, onBatch);
  const loadBefore = load();

  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  // Open loop: a batch every 10 ms, so the 10,000 arrive evenly over SECONDS whatever the latency.
  const latencies: number[] = [];
  let failures = 0;
  const inflight: Array<Promise<void>> = [];
  const batches = Math.ceil((SECONDS * 1000) / 10);
  const perBatch = Math.ceil(TOTAL / batches);
  const start = performance.now();
  let fired = 0;
  for (let b = 0; b < batches && fired < TOTAL; b += 1) {
    const due = start + b * 10;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    for (let k = 0; k < perBatch && fired < TOTAL; k += 1, fired += 1) {
      const f = fired % FINGERPRINTS;
      const severity: Severity = f < 5 ? 'critical' : f % 2 === 0 ? 'warning' : 'info';
      const t0 = performance.now();
      const alert: AlertInput = { source: 'engine', severity, title: `bench condition ${f}`, fingerprint: `bench-${f}`, details: { i: fired } };
      inflight.push((VIA_RAISE ? sink.raise(alert) : sink.record(alert))
        .then(() => void latencies.push(performance.now() - t0), () => void (failures += 1)));
    }
  }
  await Promise.all(inflight);
  const fireSeconds = (performance.now() - start) / 1000;
  loop.disable();
  probing = false;
  await probeLoop;
  await diskLoop;
  unsubscribe(WRITER_BATCHES.name, onBatch);
  const loadAfter = load();

  const observeUntil = Date.now() + OBSERVE * 1000;
  for (;;) {
    await sleep(1000);
    const [q] = await execute<{ n: number }>(ctx.db, sql`select count(*)::int as n from alert_deliveries where status = 'pending'`);
    if (DRAIN ? q!.n === 0 : Date.now() >= observeUntil) break;
  }
  await running?.stop();
  await ctx.jobs.stopAll();
  clearInterval(sampler);

  const [persisted] = await execute<{ events: number; counted: number; groups: number }>(ctx.db, sql`
    select (select count(*)::int from alert_events) as events, (select coalesce(sum(count), 0)::int from alert_groups) as counted,
           (select count(*)::int from alert_groups) as groups`);
  const [queue] = await execute<{ pending: number; sent: number; posted: number }>(ctx.db, sql`
    select count(*) filter (where status = 'pending')::int as pending, count(*) filter (where status = 'sent')::int as sent,
           (select count(*)::int from alert_groups where slack_ts is not null) as posted from alert_deliveries`);

  // Slack writes per channel: posts and updates, bucketed by calendar second and by any 1 s window.
  const writes = slack.calls.filter((c) => c.method === 'chat.postMessage' || c.method === 'chat.update');
  const byChannel = new Map<string, number[]>();
  for (const c of writes) byChannel.set(String(c.body.channel), [...(byChannel.get(String(c.body.channel)) ?? []), c.at]);
  let worstSecond = 0;
  let minGap = Infinity;
  const lines: string[] = [];
  for (const [channel, times] of [...byChannel.entries()].sort((a, b) => b[1].length - a[1].length)) {
    times.sort((a, b) => a - b);
    const buckets = new Map<number, number>();
    for (const t of times) buckets.set(Math.floor(t / 1000), (buckets.get(Math.floor(t / 1000)) ?? 0) + 1);
    const maxPerSecond = Math.max(...buckets.values());
    worstSecond = Math.max(worstSecond, maxPerSecond);
    for (let i = 1; i < times.length; i += 1) minGap = Math.min(minGap, times[i]! - times[i - 1]!);
    // n messages from the first to the last are n − 1 gaps: the mean rate over that span.
    const span = (times.at(-1)! - times[0]!) / 1000;
    const mean = times.length > 1 && span > 0 ? `${((times.length - 1) / span).toFixed(2)}/s` : 'n/a';
    lines.push(`    ${channel.padEnd(12)} ${String(times.length).padStart(4)} messages, max ${maxPerSecond} in any calendar second, mean ${mean} from the first to the last`);
  }

  latencies.sort((a, b) => a - b);
  probe.sort((a, b) => a - b);
  disk.sort((a, b) => a - b);
  const waits = timings.flatMap((t) => t.waitedMs).sort((a, b) => a - b);
  const batchWrites = timings.flatMap((t) => t.waitedMs.map(() => t.writeMs)).sort((a, b) => a - b);
  const sizes = timings.map((t) => t.size).sort((a, b) => a - b);
  const overlapped = timings.filter((t) => t.overlapping > 0).length;
  const p99 = pct(latencies, 99);
  const allPersisted = persisted!.events === TOTAL && persisted!.counted === TOTAL && failures === 0;
  console.log(`round ${round}: ${TOTAL} alerts, ${FINGERPRINTS} fingerprints, fired in ${fireSeconds.toFixed(2)} s | ${loadBefore} before the storm, ${loadAfter} after`);
  console.log(`  alerts persisted:        ${persisted!.events} events, group counts sum ${persisted!.counted}, ${persisted!.groups} groups, ${failures} failed  ${allPersisted ? 'OK (all)' : 'MISSING'}`);
  console.log(`  time to persist:         p50 ${pct(latencies, 50).toFixed(2)} ms, p99 ${p99.toFixed(2)} ms, max ${(latencies.at(-1) ?? 0).toFixed(2)} ms  ${p99 < FLOOR_P99_MS ? `ok (< ${FLOOR_P99_MS} ms)` : `OVER ${FLOOR_P99_MS} ms`}`);
  console.log(`    made of, per alert: wait for its batch to start p50 ${pct(waits, 50).toFixed(2)} ms, p99 ${pct(waits, 99).toFixed(2)} ms; its batch's statement + commit p50 ${pct(batchWrites, 50).toFixed(2)} ms, p99 ${pct(batchWrites, 99).toFixed(2)} ms`
    + ` | ${timings.length} batches (size median ${pct(sizes, 50)}, max ${sizes.at(-1) ?? 0}), ${timings.length ? ((100 * overlapped) / timings.length).toFixed(0) : 0} % started while another was committing (their WAL flushes shared)`);
  console.log(`  anchor, 1-row commit every 50 ms on its own connection: p50 ${pct(probe, 50).toFixed(2)} ms, p99 ${pct(probe, 99).toFixed(2)} ms, max ${(probe.at(-1) ?? 0).toFixed(2)} ms (${probe.length} commits)`);
  console.log(`  disk, 8 kB write + fdatasync every 50 ms in ${tmpdir()} (${await sameDevice(ctx.db)}): p50 ${pct(disk, 50).toFixed(2)} ms, p99 ${pct(disk, 99).toFixed(2)} ms, max ${(disk.at(-1) ?? 0).toFixed(2)} ms (${disk.length} flushes)`);
  console.log(`  Slack writes per channel per second (posts + updates): worst calendar second ${worstSecond}, smallest gap ${Number.isFinite(minGap) ? `${minGap} ms` : 'n/a'}  ${worstSecond <= 1 ? 'OK (≤ 1/s/channel)' : 'OVER LIMIT'}`);
  for (const l of lines.slice(0, 8)) console.log(l);
  if (lines.length > 8) console.log(`    … ${lines.length - 8} more channels`);
  console.log(`  delivery after ${DRAIN ? 'draining' : `${OBSERVE} s`}: ${queue!.posted}/${persisted!.groups} threads posted, ${queue!.sent} deliveries sent, ${queue!.pending} still queued (kept in the outbox, not dropped)`);
  console.log(`  event-loop delay while firing: p99 ${(loop.percentile(99) / 1e6).toFixed(1)} ms, max ${(loop.max / 1e6).toFixed(1)} ms (delivery and escalation ticks share the process)`);
  console.log(`  peak memory:             rss ${(peakRss / 2 ** 20).toFixed(0)} MiB, heap ${(peakHeap / 2 ** 20).toFixed(0)} MiB${round > 1 ? ' (this process, earlier rounds included)' : ''}`);

  await ctx.close();
  await probeDb.close();
  await slack.close();
  await database.close();
  return { allPersisted, p99, probeP99: pct(probe, 99), diskP99: pct(disk, 99), worstSecond, pending: queue!.pending };
}

/** Whether the disk probe's file is on the device of PostgreSQL's data directory (a local server only). */
async function sameDevice(db: Parameters<typeof execute>[0]): Promise<string> {
  try {
    const [row] = await execute<{ dir: string }>(db, sql`select current_setting('data_directory') as dir`);
    const [data, tmp] = await Promise.all([stat(row!.dir), stat(tmpdir())]);
    return data.dev === tmp.dev ? `the device of PostgreSQL's data directory ${row!.dir}` : `NOT the device of PostgreSQL's data directory ${row!.dir}`;
  } catch {
    return 'whether it is PostgreSQL\'s device is unknown';
  }
}

async function main() {
  const entry = VIA_RAISE ? '' : 'alerts written through sink.record (the write alone; the bot\'s raisers send through sink.raise, which also arms a stall timer per alert: --raise); ';
  console.log(`alerts bench — not shipped: ${entry}test configuration (LOG_LEVEL error) and a silent logger; Slack a local fake on loopback; a warm-up before each storm (pool open, a tick run). ` +
    `Shipped: the outbox sink${VIA_RAISE ? ' (sink.raise, as raisers send)' : ''} and the alerts feature's delivery and escalation ticks, on PostgreSQL; ${ROUNDS} round(s) of ${TOTAL} alerts in ${SECONDS} s, a fresh database each`);
  console.log(`before: ${load()}`);
  const rounds: Storm[] = [];
  for (let round = 1; round <= ROUNDS; round += 1) rounds.push(await storm(round));
  const p99 = median(rounds.map((r) => r.p99));
  const probeP99 = median(rounds.map((r) => r.probeP99));
  const diskP99 = median(rounds.map((r) => r.diskP99));
  const worstSecond = Math.max(...rounds.map((r) => r.worstSecond));
  const allPersisted = rounds.every((r) => r.allPersisted);
  console.log(`over ${ROUNDS} round(s): time to persist p99 median ${p99.toFixed(2)} ms (rounds ${rounds.map((r) => r.p99.toFixed(2)).join(' ')}) [floor < ${FLOOR_P99_MS} ms: ${p99 < FLOOR_P99_MS ? 'PASS' : 'FAIL'}]` +
    ` | anchor 1-row commit p99 median ${probeP99.toFixed(2)} ms (rounds ${rounds.map((r) => r.probeP99.toFixed(2)).join(' ')}), persist p99 = ${(p99 / probeP99).toFixed(1)}× it` +
    ` | Slack worst calendar second ${worstSecond} [≤ 1: ${worstSecond <= 1 ? 'PASS' : 'FAIL'}] | every alert persisted in every round: ${allPersisted ? 'PASS' : 'FAIL'}` +
    ` | still queued ${rounds.map((r) => r.pending).join(' ')}`);
  // The floor beside the disk's own figures: a durable commit cannot beat the disk's flush.
  console.log(`  floor: persist p99 < ${FLOOR_P99_MS} ms | the disk's own flush (8 kB fdatasync) p99 median ${diskP99.toFixed(2)} ms (rounds ${rounds.map((r) => r.diskP99.toFixed(2)).join(' ')})`
    + ` | a 1-row commit p99 median ${probeP99.toFixed(2)} ms`);
  if (diskP99 >= FLOOR_P99_MS) {
    console.log(`  note: the disk's own flush p99 is ${diskP99.toFixed(2)} ms, at or over the ${FLOOR_P99_MS} ms floor right now: no durable commit (synchronous_commit on, as shipped) can meet it on this disk at this moment; rerun when it is quieter`);
  } else if (p99 >= FLOOR_P99_MS && probeP99 >= FLOOR_P99_MS) {
    console.log('  note: the disk\'s own 1-row commit already has p99 ≥ 20 ms right now (shared, loaded machine): rerun when it is quieter');
  }
  console.log(`after: ${load()}`);
  if (!allPersisted || p99 >= FLOOR_P99_MS || worstSecond > 1) process.exitCode = 1;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
