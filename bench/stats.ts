// Bench: `/stats <period>` over 1,000,000 closed trades spread evenly over a year, and a year of
// hourly equity snapshots, on PostgreSQL (floor: `/stats all` under 300 ms on this machine). The
// command runs as Slack and the CLI run it (runCommand(statsCommand) on an app context built as the
// bot builds it); the equity chart drawn after the figures is not timed. The trades go in with
// INSERT … SELECT generate_series (the rollup triggers fire once per statement) and are spread over
// the whole year whatever their count, so the 24h/7d/30d windows hold trades at small sizes too (an
// empty window would time nothing: the bench stops).
// A round: each period once (all, 30d, 7d, 24h), then the anchors, measured in the same round on the
// same database: a prepared `select 1` round trip (median of 200: the least any statement pays) and
// a plain aggregate over the same trades (closed trades' count, PnL, fees and deployed capital by
// mode, feed and strategy, straight from `trades`: what `/stats all` costs without the daily rollups).
// Not shipped, named in the first output line: the ledger is synthetic, the app context has the test
// configuration (LOG_LEVEL warn) and a silent logger, the pool is warm (as in a running bot; a cold
// `ctb stats` is bench:cli-start's), and one run of each period before round 1 is a warm-up,
// printed and not counted. The load (1-minute average) is printed before, with each round and after.
//   npm run bench:stats [-- --rounds 5] [--trades 1000000]
import { sql } from 'drizzle-orm';
import { availableParallelism, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { statsCommand } from '../commands/stats.js';
import { runCommand } from '../commands/run-command.js';
import { buildAppContext } from '../src/app/build-context.js';
import { ManualClock } from '../src/clock.js';
import { testConfig } from '../src/config/env.js';
import { execute, type Db } from '../src/db/client.js';
import { executePrepared } from '../src/db/prepared.js';
import { silentLogger } from '../src/logger.js';
import { createPostgresTestDb } from '../tests/support/db.js';

const { values } = parseArgs({
  options: { rounds: { type: 'string', default: '5' }, trades: { type: 'string', default: process.env.BENCH_TRADES ?? '1000000' } },
});
const ROUNDS = Math.max(1, Number(values.rounds));
const TRADES = Number(values.trades);
if (!Number.isInteger(TRADES) || TRADES < 1_000) throw new Error(`--trades: expected a whole number ≥ 1000, got "${values.trades}"`);
const SHIPPED_TRADES = 1_000_000;
const FLOOR_MS = 300;
const CHUNK = 250_000;
const START = '2025-11-25T00:00:00Z';
const NOW = new Date('2026-11-25T00:00:00Z');
/** Seconds between two trades' exits: the year from START to NOW shared evenly, whatever the count. */
const STEP_S = (NOW.getTime() - Date.parse(START)) / 1000 / TRADES;
const PERIODS = ['all', '30d', '7d', '24h'] as const;
const load = () => `load ${loadavg().map((l) => l.toFixed(2)).join(' ')} on ${availableParallelism()} cores`;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const ms = (v: number) => `${v.toFixed(1)} ms`;

const notShipped = [
  'a synthetic ledger',
  'test configuration (LOG_LEVEL warn) and a silent logger',
  'a warm pool',
  'one warm-up run of each period before round 1, printed and not counted',
  ...(TRADES === SHIPPED_TRADES ? [] : [`${TRADES.toLocaleString('en')} trades, not the floor's 1,000,000`]),
];
console.log(`stats bench — not shipped: ${notShipped.join('; ')}. Shipped: the stats command as Slack and the CLI run it, on PostgreSQL, ${ROUNDS} rounds`);
console.log(`before: ${load()}`);

async function seed(db: Db): Promise<void> {
  for (let offset = 0; offset < TRADES; offset += CHUNK) {
    const n = Math.min(CHUNK, TRADES - offset);
    // One trade every STEP_S seconds across the year; three strategies; 1 in 20 live; PnL from a cheap hash.
    await db.execute(sql`
      insert into trades (mode, feed, strategy, symbol, status, quantity, entry_price, entry_fee, entry_at,
                          exit_price, exit_fee, exit_at, realized_pnl, capital_buffer, entry_intent_id, exit_intent_id)
      select case when i % 20 = 0 then 'live' else 'paper' end, 'kraken',
             (array['ma-cross', 'momentum', 'breakout'])[1 + i % 3], 'BTC/USD', 'closed',
             0.01, 50000, 0.13, ts - interval '20 minutes',
             50000 + d, 0.13, ts, 0.01 * d - 0.26, 1000, 2 * i, 2 * i + 1
      from (select i, ${START}::timestamptz + (i * ${STEP_S}::float8) * interval '1 second' as ts,
                   ((i * 7919) % 2001 - 1000)::numeric as d
            from generate_series(${offset + 1}::bigint, ${offset + n}::bigint) as i) as g`);
  }
  await db.execute(sql`
    insert into equity_snapshots (mode, feed, at, equity, cash, peak_equity, drawdown_pct)
    select 'paper', 'kraken', ${START}::timestamptz + h * interval '1 hour', 10000 + 500 * sin(h / 300.0), 10000, 10500, 0
    from generate_series(0, 8759) as h`);
  await db.execute(sql`analyze`);
}

/** Anchor: one prepared `select 1` round trip, median of 200 (after 20 not counted). */
async function roundTrip(db: Db): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < 220; i++) {
    const t = performance.now();
    await executePrepared(db, sql`select 1 as one`);
    if (i >= 20) times.push(performance.now() - t);
  }
  return median(times);
}

/** Anchor: `/stats all`'s closed-trade sums read straight from `trades`, without the rollups. */
async function plainAggregate(db: Db): Promise<{ ms: number; closed: number }> {
  const t = performance.now();
  const rows = await execute<{ closed: number }>(db, sql`
    select mode, feed, strategy, count(*)::int as closed, count(*) filter (where realized_pnl > 0)::int as wins,
           sum(realized_pnl)::text as realized, sum(entry_fee + coalesce(exit_fee, 0))::text as fees, sum(quantity * entry_price)::text as deployed
    from trades where status = 'closed' group by mode, feed, strategy`);
  return { ms: performance.now() - t, closed: rows.reduce((a, r) => a + r.closed, 0) };
}

const database = await createPostgresTestDb();
try {
  const t0 = performance.now();
  await seed(database.db);
  const [count] = await execute<{ n: number; buckets: number }>(database.db, sql`select (select count(*)::int from trades) as n, (select count(*)::int from trade_stats_daily) as buckets`);
  console.log(`loaded ${count!.n.toLocaleString('en')} closed trades, one every ${STEP_S.toFixed(1)} s over a year (${count!.buckets.toLocaleString('en')} daily buckets), + 8,760 snapshots in ${((performance.now() - t0) / 1000).toFixed(1)} s | ${load()}`);

  const ctx = await buildAppContext({ config: testConfig(), database, clock: new ManualClock(NOW), logger: silentLogger() });
  const actor = { id: 'bench', source: 'system' as const };
  const closed: Record<string, number> = {};
  const statsOnce = async (period: (typeof PERIODS)[number]) => {
    const s = performance.now();
    const result = await runCommand(statsCommand, ctx, actor, { period });
    const took = performance.now() - s;
    if (result.closed === 0) throw new Error(`/stats ${period}: no closed trade in the window, so nothing was timed`);
    closed[period] = result.closed;
    return took;
  };
  const warm: string[] = [];
  for (const period of PERIODS) warm.push(`${period} ${ms(await statsOnce(period))}`);
  console.log(`warm-up (not counted): ${warm.join(', ')}`);

  const times: Record<string, number[]> = Object.fromEntries(PERIODS.map((p) => [p, []]));
  const trips: number[] = [];
  const plains: number[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    for (const period of PERIODS) times[period]!.push(await statsOnce(period));
    const trip = await roundTrip(ctx.db);
    const plain = await plainAggregate(ctx.db);
    if (plain.closed !== count!.n) throw new Error(`the plain aggregate counted ${plain.closed} closed trades, expected ${count!.n}`);
    trips.push(trip);
    plains.push(plain.ms);
    console.log(`round ${round}: ${PERIODS.map((p) => `/stats ${p} ${ms(times[p]!.at(-1)!)}`).join(', ')}` +
      ` | anchors: prepared round trip ${(trip * 1000).toFixed(0)} µs, plain aggregate over the trades ${ms(plain.ms)} | ${load()}`);
  }
  await ctx.close();

  for (const period of PERIODS) {
    const xs = [...times[period]!].sort((a, b) => a - b);
    const m = median(xs);
    const line = `/stats ${period.padEnd(3)}: median ${ms(m)}, best ${ms(xs[0]!)}, worst ${ms(xs.at(-1)!)} (${closed[period]!.toLocaleString('en')} closed in the window)`;
    if (period !== 'all') console.log(line);
    else {
      const pass = m < FLOOR_MS;
      if (!pass) process.exitCode = 1;
      console.log(`${line}, ${(m / median(plains)).toFixed(2)}× the plain aggregate — floor < ${FLOOR_MS} ms: ${pass ? 'PASS' : 'FAIL'}`);
    }
  }
  console.log(`anchors (medians): prepared round trip ${(median(trips) * 1000).toFixed(0)} µs, plain aggregate over the same ${count!.n.toLocaleString('en')} trades ${ms(median(plains))}`);
} finally {
  await database.close();
}
console.log(`after: ${load()}`);
