// Bench: one year of 1-minute candles (525,600) for one pair through the whole engine path —
// strategy, filters, sizing, risk guard, order intents, paper fills, ledger and equity snapshots —
// on PostgreSQL and on PGlite, printing candles/s. Floor: 25,000 candles/s on PostgreSQL.
//   npm run bench:replay                      (both databases, bench/strategies.json)
//   npm run bench:replay -- --candles 100000 --db postgres --strategies config/strategies.json
// bench/strategies.json is an intraday 50/200 SMA crossover (~1,700 orders a year on this data); the
// shipped config/strategies.json is tuned for a quick demo on the sample and trades ~10× as often.
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { sql } from 'drizzle-orm';
import { buildAppContext } from '../src/app/build-context.js';
import { ManualClock } from '../src/clock.js';
import { testConfig } from '../src/config/env.js';
import { execute, type Database } from '../src/db/client.js';
import { Engine } from '../src/engine/engine.js';
import { validateClosedTrades } from '../src/engine/ledger/validate-trades.js';
import { loadStrategies } from '../src/engine/strategies/config.js';
import { silentLogger } from '../src/logger.js';
import { PacedFeed } from '../src/market/paced-feed.js';
import { generateCandles } from '../src/market/synthetic.js';
import { createPgliteTestDb, createPostgresTestDb } from '../tests/support/db.js';

const { values } = parseArgs({
  options: {
    candles: { type: 'string', default: '525600' },
    db: { type: 'string', default: 'both' },
    strategies: { type: 'string' },
    // By default the risk limits are lifted so the engine trades all year (the slowest case: every
    // candle still goes through the risk guard, it just never pauses entries). --shipped-risk keeps them.
    'shipped-risk': { type: 'boolean', default: false },
  },
});
const count = Number(values.candles);
const kinds = values.db === 'both' ? ['postgres', 'pglite'] : [values.db!];
const strategies = loadStrategies({ STRATEGIES_FILE: values.strategies ?? new URL('./strategies.json', import.meta.url).pathname }).strategies;
const candles = generateCandles({ symbol: 'BTC/USD', count, start: new Date('2025-01-01T00:00:00Z'), startPrice: 65_000, seed: 2025 });

async function runOn(kind: string, database: Database): Promise<void> {
  const clock = new ManualClock('2025-01-01T00:00:00Z');
  const ctx = await buildAppContext({
    config: testConfig({ LOG_DIR: '/tmp/ctb-bench-logs', ...(values['shipped-risk'] ? {} : { RISK_MAX_DRAWDOWN_PCT: '100', RISK_DAILY_LOSS_PCT: '100', RISK_HARD_DRAWDOWN_PCT: '100' }) }), database, clock, logger: silentLogger(), alerts: () => ({ raise: async () => {} }),
  });
  const engine = new Engine({ ctx, feed: new PacedFeed('replay', candles, 0), strategies, marketClock: clock, stopWhenFeedEnds: true, housekeepingMs: 1000 });
  const started = performance.now();
  await engine.start();
  const seconds = (performance.now() - started) / 1000;
  const [row] = await execute<{ closed: number; snapshots: number; paused: boolean }>(database.db, sql`
    select (select count(*)::int from trades where status = 'closed') as closed, (select count(*)::int from equity_snapshots) as snapshots,
      (select entries_paused from bot_state where id = 1) as paused`);
  const check = await validateClosedTrades(database.db);
  const rate = Math.round(count / seconds);
  console.log(
    `${kind.padEnd(8)} ${count.toLocaleString('en-US')} candles in ${seconds.toFixed(2)} s = ${rate.toLocaleString('en-US')} candles/s` +
    ` (orders ${engine.counts.orders}, closed trades ${row?.closed}, equity snapshots ${row?.snapshots}, invalid trades ${check.offending.length}${row?.paused ? ', entries paused by the risk guard' : ''})`,
  );
  await ctx.close();
}

for (const kind of kinds) {
  const database = kind === 'postgres' ? await createPostgresTestDb() : await createPgliteTestDb();
  try {
    await runOn(kind, database);
  } finally {
    await database.close();
  }
}
