// Bench: one year of 1-minute candles (525,600) for one pair through the whole engine path —
// strategy, filters, sizing, risk guard, pre-trade gate, order intents, paper fills, ledger and
// equity snapshots (one per candle, as the bot's replay writes them) — printing candles/s per round.
// Runs what ships: the shipped config/strategies.json, on PostgreSQL (a fresh database) and on PGlite as the bot opens it (on disk
// under a fresh DATA_DIR, the shipped memory settings). Not shipped, named in the first output line:
// the candles are synthetic (a seeded random walk, so a year exists), and the risk limits are lifted
// so the engine trades all year (the slower case: every candle still goes through the risk guard,
// it just never pauses entries); --shipped-risk keeps them.
// Anchor, measured in the same run on each database: one prepared `select 1` round trip (median of
// 500), the least each of the engine's statements pays.
// Floors (issue 15): ≥ 25,000 candles/s on PostgreSQL, ≥ 10,000 on PGlite (medians of the rounds).
//   npm run bench:replay [-- --rounds 3] [--candles 100000] [--db postgres|pglite|both] [--strategies file] [--shipped-risk]
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { sql } from 'drizzle-orm';
import { buildAppContext } from '../src/app/build-context.js';
import { ManualClock } from '../src/clock.js';
import { testConfig } from '../src/config/env.js';
import { execute, openDatabase, type Database } from '../src/db/client.js';
import { migrate } from '../src/db/migrate.js';
import { executePrepared } from '../src/db/prepared.js';
import { Engine } from '../src/engine/engine.js';
import { acquireLease, writeLeaseWaiting } from '../src/db/queries/engine-lease.js';
import { createWaitingRecord, recordingGate } from '../src/services/engine-lease/waiting-record.js';
import { replaySnapshotEveryMs } from '../src/app/features/engine.js';
import { validateClosedTrades } from '../src/engine/ledger/validate-trades.js';
import { loadStrategies } from '../src/engine/strategies/config.js';
import { silentLogger } from '../src/logger.js';
import { PacedFeed } from '../src/market/paced-feed.js';
import { generateCandles } from '../src/market/synthetic.js';
import { postgresAsShipped } from './probes.js';

const { values } = parseArgs({
  options: {
    candles: { type: 'string', default: '525600' },
    rounds: { type: 'string', default: '1' },
    db: { type: 'string', default: 'both' },
    strategies: { type: 'string' },
    // By default the risk limits are lifted so the engine trades all year (the slowest case: every
    // candle still goes through the risk guard, it just never pauses entries). --shipped-risk keeps them.
    'shipped-risk': { type: 'boolean', default: false },
  },
});
const count = Number(values.candles);
const rounds = Math.max(1, Number(values.rounds));
const kinds = values.db === 'both' ? ['postgres', 'pglite'] : [values.db!];
const SHIPPED_STRATEGIES = new URL('../config/strategies.json', import.meta.url).pathname;
const strategiesFile = values.strategies ? resolve(values.strategies) : SHIPPED_STRATEGIES;
const strategies = loadStrategies({ STRATEGIES_FILE: strategiesFile }).strategies;
const candles = generateCandles({ symbol: 'BTC/USD', count, start: new Date('2025-01-01T00:00:00Z'), startPrice: 65_000, seed: 2025 });
const load = () => `load ${loadavg().map((l) => l.toFixed(2)).join(' ')} on ${availableParallelism()} cores`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;

const notShipped = [
  'synthetic candles (seeded random walk)',
  'a market-time clock (rows stamped with the candles\' times; the bot stamps them with the wall clock, so at REPLAY_INTERVAL=0 an order waits about a millisecond for it to pass the millisecond of the snapshot before it)',
  'no log lines (a silent logger; the bot writes its order, fill and close lines at info, LOG_LEVEL\'s default)',
  ...(values['shipped-risk'] ? [] : ['risk limits lifted (RISK_MAX_DRAWDOWN_PCT, RISK_DAILY_LOSS_PCT, RISK_HARD_DRAWDOWN_PCT = 100)']),
  ...(strategiesFile === SHIPPED_STRATEGIES ? [] : [`strategies from ${strategiesFile}, not config/strategies.json`]),
  ...(count === 525_600 ? [] : [`${count.toLocaleString('en-US')} candles, not a year`]),
];
console.log(`replay bench — not shipped: ${notShipped.join('; ')}. Shipped: config/strategies.json${strategiesFile === SHIPPED_STRATEGIES ? '' : ' (NOT used)'}, the engine's whole order path, an equity snapshot per candle as the bot's replay writes, PGlite on disk with its shipped settings`);
console.log(`before: ${load()}`);

/** A database as the bot opens it: PostgreSQL (a fresh test database) or PGlite on disk under a fresh DATA_DIR. */
async function open(kind: string): Promise<Database> {
  // Committing as the bot's does (bench/probes.ts: the tests' databases do not wait for the WAL).
  if (kind === 'postgres') return postgresAsShipped();
  const dataDir = mkdtempSync(join(tmpdir(), 'ctb-bench-replay-'));
  const database = await openDatabase({ dataDir });
  await migrate(database);
  return { ...database, close: async () => { await database.close(); rmSync(dataDir, { recursive: true, force: true }); } };
}

async function roundTrip(database: Database): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < 550; i++) {
    const t = performance.now();
    await executePrepared(database.db, sql`select 1 as one`);
    if (i >= 50) times.push(performance.now() - t);
  }
  return median(times);
}

/** CPU-seconds per process tick (USER_HZ, 100 on Linux). */
const TICK = 0.01;

/**
 * The CPU the round used: this process's (the engine and, on PGlite, the database in it) and, on a
 * local PostgreSQL, its backends serving this database (read from /proc before they close). On a
 * busy machine the wall time grows with the other load, while these change less: they say whether
 * a build does less work, where the candles/s alone cannot.
 */
async function cpuSpent(kind: string, database: Database, before: NodeJS.CpuUsage): Promise<string> {
  const own = process.cpuUsage(before);
  const ownText = `cpu: bench process ${((own.user + own.system) / 1e6).toFixed(2)} s (system ${(own.system / 1e6).toFixed(2)})`;
  if (kind !== 'postgres') return `${ownText}, the database in it`;
  const backends = await execute<{ pid: number }>(database.db, sql`select pid from pg_stat_activity where datname = current_database()`);
  let ticks = 0;
  for (const { pid } of backends) {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      return `${ownText}; PostgreSQL's backends not readable here (not a local server)`;
    }
  }
  return `${ownText}; PostgreSQL backends ${(ticks * TICK).toFixed(2)} s (${backends.length} connections to this database)`;
}

async function runOn(kind: string, database: Database): Promise<number> {
  const clock = new ManualClock('2025-01-01T00:00:00Z');
  const ctx = await buildAppContext({
    config: testConfig({ LOG_DIR: '/tmp/ctb-bench-logs', ...(values['shipped-risk'] ? {} : { RISK_MAX_DRAWDOWN_PCT: '100', RISK_DAILY_LOSS_PCT: '100', RISK_HARD_DRAWDOWN_PCT: '100' }) }), database, clock, logger: silentLogger(), alerts: () => ({ raise: async () => {} }),
  });
  // As `ctb start --feed replay` runs it: an equity snapshot per candle, and the engine's gate with its
  // answers recorded in the lease row (a write only when they change) (app/features/engine.ts).
  const holder = { holderId: 'bench:1:00000000', host: 'bench', pid: process.pid, role: 'worker', feed: 'replay', armed: false, hasKrakenKeys: false };
  await acquireLease(database.db, holder, 60_000);
  const waiting = createWaitingRecord((w) => writeLeaseWaiting(database.db, holder.holderId, w), (err) => console.error(err));
  // Its intents are written under the lease it holds, as the running bot's are (the row checked in each
  // intent's statement): the bench measures that check. Lost, the bench fails rather than measure nothing:
  // its gate closes and its engine stops at the first loss, as the running bot's lease keeper does
  // (not one refusal logged per order until the feed ends), and the run throws below.
  let lostLease: string | null = null;
  // A paper engine holding its lease: the gate is open (its reasons are the lease and live's reconciliation).
  const { gate } = recordingGate(() => (lostLease === null ? null : 'this bench engine lost its engine lease'), waiting);
  const engine: Engine = new Engine({
    lease: {
      kind: 'held', holderId: holder.holderId,
      lost: (reason) => {
        if (lostLease !== null) return;
        lostLease = reason;
        void engine.stop();
      },
    },
    ctx, feed: new PacedFeed('replay', candles, 0), strategies, marketClock: clock, stopWhenFeedEnds: true, housekeepingMs: 1000,
    snapshotEveryMs: replaySnapshotEveryMs(ctx.config), gate,
  });
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  await engine.start();
  if (lostLease !== null) throw new Error(`the bench's engine lost its engine lease (${lostLease}): its figures measure nothing`);
  const seconds = (performance.now() - started) / 1000;
  const cpu = await cpuSpent(kind, database, cpuBefore);
  const [row] = await execute<{ closed: number; snapshots: number; paused: boolean }>(database.db, sql`
    select (select count(*)::int from trades where status = 'closed') as closed, (select count(*)::int from equity_snapshots) as snapshots,
      (select entries_paused from bot_state where id = 1) as paused`);
  const check = await validateClosedTrades(database.db);
  // What was booked, to compare builds: identical trades and snapshots give identical figures.
  const [digest] = await execute<{ pnl: string; trades: string; snapshots: string }>(database.db, sql`
    select (select coalesce(sum(realized_pnl), 0)::text from trades where status = 'closed') as pnl,
      (select md5(coalesce(string_agg(concat_ws(',', id, strategy, symbol, status, quantity, entry_price, entry_fee, exit_price, exit_fee, realized_pnl, capital_buffer,
        entry_at, exit_at), ';' order by id), '')) from trades) as trades,
      (select md5(coalesce(string_agg(concat_ws(',', mode, feed, at, equity, cash, peak_equity, drawdown_pct), ';' order by at, id), '')) from equity_snapshots) as snapshots`);
  const rate = Math.round(count / seconds);
  const anchor = await roundTrip(database);
  console.log(
    `${kind.padEnd(8)} ${count.toLocaleString('en-US')} candles in ${seconds.toFixed(2)} s = ${rate.toLocaleString('en-US')} candles/s` +
    ` (orders ${engine.counts.orders}, closed trades ${row?.closed}, equity snapshots ${row?.snapshots}, invalid trades ${check.offending.length}${row?.paused ? ', entries paused by the risk guard' : ''})` +
    ` | anchor: a prepared round trip ${(anchor * 1000).toFixed(0)} µs | ${load()}`,
  );
  console.log(`${kind.padEnd(8)} ${cpu}`);
  console.log(`${kind.padEnd(8)} booked: PnL ${digest?.pnl}, trades md5 ${digest?.trades}, snapshots md5 ${digest?.snapshots}`);
  await ctx.close();
  return rate;
}

const floors: Record<string, number> = { postgres: 25_000, pglite: 10_000 };
const rates: Record<string, number[]> = {};
for (let round = 1; round <= rounds; round++) {
  for (const kind of kinds) {
    const database = await open(kind);
    try {
      (rates[kind] ??= []).push(await runOn(kind, database));
    } finally {
      await database.close();
    }
  }
}
for (const kind of kinds) {
  const m = median(rates[kind]!);
  const floor = floors[kind];
  console.log(`median ${kind}: ${m.toLocaleString('en-US')} candles/s${floor ? ` [floor ≥ ${floor.toLocaleString('en-US')}: ${m >= floor ? 'PASS' : 'FAIL'}]` : ''}`);
}
console.log(`after: ${load()}`);
