// Bench: `/stats all` over 1,000,000 closed trades on PostgreSQL (floor: 300 ms on this machine).
// Loads the trades with INSERT … SELECT generate_series (the rollup triggers fire once per
// statement), adds a year of hourly equity snapshots, then times the stats command as Slack and
// the CLI run it. Run: npm run bench:stats  (BENCH_TRADES=… to change the count).
import { sql } from 'drizzle-orm';
import { performance } from 'node:perf_hooks';
import { statsCommand } from '../commands/stats.js';
import { runCommand } from '../commands/run-command.js';
import { buildAppContext } from '../src/app/build-context.js';
import { ManualClock } from '../src/clock.js';
import { testConfig } from '../src/config/env.js';
import { execute } from '../src/db/client.js';
import { silentLogger } from '../src/logger.js';
import { createPostgresTestDb } from '../tests/support/db.js';

const TRADES = Number(process.env.BENCH_TRADES ?? 1_000_000);
const CHUNK = 250_000;
const START = '2025-11-25T00:00:00Z';
const NOW = new Date('2026-11-25T00:00:00Z');

const database = await createPostgresTestDb();
try {
  const db = database.db;
  const t0 = performance.now();
  for (let offset = 0; offset < TRADES; offset += CHUNK) {
    const n = Math.min(CHUNK, TRADES - offset);
    // One trade every ~31.5 s across a year; three strategies; 1 in 20 live; PnL from a cheap hash.
    await db.execute(sql`
      insert into trades (mode, feed, strategy, symbol, status, quantity, entry_price, entry_fee, entry_at,
                          exit_price, exit_fee, exit_at, realized_pnl, capital_buffer, entry_intent_id, exit_intent_id)
      select case when i % 20 = 0 then 'live' else 'paper' end, 'kraken',
             (array['ma-cross', 'momentum', 'breakout'])[1 + i % 3], 'BTC/USD', 'closed',
             0.01, 50000, 0.13, ts - interval '20 minutes',
             50000 + d, 0.13, ts, 0.01 * d - 0.26, 1000, 2 * i, 2 * i + 1
      from (select i, ${START}::timestamptz + (i * 31.5) * interval '1 second' as ts,
                   ((i * 7919) % 2001 - 1000)::numeric as d
            from generate_series(${offset + 1}::bigint, ${offset + n}::bigint) as i) as g`);
  }
  await db.execute(sql`
    insert into equity_snapshots (mode, feed, at, equity, cash, peak_equity, drawdown_pct)
    select 'paper', 'kraken', ${START}::timestamptz + h * interval '1 hour', 10000 + 500 * sin(h / 300.0), 10000, 10500, 0
    from generate_series(0, 8759) as h`);
  await db.execute(sql`analyze`);
  const loadMs = performance.now() - t0;
  const [count] = await execute<{ n: number; buckets: number }>(db, sql`select (select count(*)::int from trades) as n, (select count(*)::int from trade_stats_daily) as buckets`);
  console.log(`loaded ${count!.n.toLocaleString('en')} closed trades (${count!.buckets.toLocaleString('en')} daily buckets) + 8,760 snapshots in ${(loadMs / 1000).toFixed(1)} s`);

  const ctx = await buildAppContext({ config: testConfig(), database, clock: new ManualClock(NOW), logger: silentLogger() });
  const actor = { id: 'bench', source: 'system' as const };
  for (const period of ['all', '30d', '7d', '24h'] as const) {
    const times: number[] = [];
    let closed = 0;
    for (let run = 0; run < 6; run++) {
      const s = performance.now();
      const result = await runCommand(statsCommand, ctx, actor, { period });
      if (run > 0) times.push(performance.now() - s); // the first run warms the connection pool
      closed = result.closed;
    }
    times.sort((a, b) => a - b);
    const median = times[Math.floor(times.length / 2)]!;
    const line = `/stats ${period.padEnd(3)}: median ${median.toFixed(1)} ms, best ${times[0]!.toFixed(1)} ms, worst ${times.at(-1)!.toFixed(1)} ms (${closed.toLocaleString('en')} closed)`;
    console.log(period === 'all' ? `${line} — floor 300 ms: ${median < 300 ? 'PASS' : 'FAIL'}` : line);
  }
  await ctx.close();
} finally {
  await database.close();
}
