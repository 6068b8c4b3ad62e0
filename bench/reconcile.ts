// Bench: reconciliation end to end once Kraken's history is fetched — the ledger's live fills loaded
// from the database (loadLiveFills, as `ctb reconcile` does), matched against the exchange's trades
// (matchTrades) and summed for the balance check (balanceDiffs) — over N fills, 1 % of them
// mismatched and 1 % legacy exchange trades the ledger lacks. Fetching the history is not timed (it
// is paced by Kraken's rate limit, not by us). Database: PostgreSQL by default (the floor's);
// `--db pglite` runs the embedded one (in memory) instead.
// Anchor, measured in the same run on the same data: a bare hash join (exchange trades in a Map by
// trade id, every fill looked up and its quantity compared) — the least any matcher can do.
// Floor (issue 15): 100,000 fills in < 500 ms, and 200,000 at most 2.2× the 100,000 time. Each
// round runs both sizes back to back, 100k first in odd rounds and 200k first in even ones (so
// neither always follows the other, nor always runs right after the previous round's anchors), with
// a full GC before every timed run; the time floor is judged on the median 100k time, the ratio on
// the median of per-round ratios.
// Load (1-minute average) is printed before and after, and with each round; so is this process's
// CPU time for the 100k run (the database server's is not in it), which moves less with the load.
//   npm run bench:reconcile [-- --rounds 9] [--db postgres|pglite]
import { performance } from 'node:perf_hooks';
import { availableParallelism, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { sql } from 'drizzle-orm';
import type { Database } from '../src/db/client.js';
import type { ExchangeTrade } from '../src/exchange/types.js';
import { balanceDiffs } from '../src/services/reconcile/balances.js';
import { firstFillAt, loadLiveFills } from '../src/services/reconcile/load-ledger.js';
import { matchTrades } from '../src/services/reconcile/match.js';
import { createPgliteTestDb } from '../tests/support/db.js';
import { postgresAsShipped } from './probes.js';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '7' }, db: { type: 'string', default: 'postgres' } } });
const ROUNDS = Math.max(1, Number(values.rounds));
const WARMUP = 2;
const KIND = values.db === 'pglite' ? 'pglite' : 'postgres';
const CUTOFF = new Date('2026-01-01T00:00:00Z');
const gc = (globalThis as { gc?: () => void }).gc;
const load = () => `load ${loadavg().map((l) => l.toFixed(2)).join(' ')} on ${availableParallelism()} cores`;

interface Fill {
  clientOrderId: string; exchangeTradeId: string; exchangeOrderId: string; side: 'buy' | 'sell'; quantity: string; price: string; filledAt: Date;
}

function dataset(n: number): { fills: Fill[]; exchange: ExchangeTrade[] } {
  const fills: Fill[] = [];
  const exchange: ExchangeTrade[] = [];
  const start = CUTOFF.getTime() + 60_000;
  for (let i = 0; i < n; i++) {
    const legacy = i % 100 === 50; // 1 %: on the exchange before the ledger began, not in the ledger
    const mismatch = i % 100 === 7; // 1 %: quantity differs
    const id = `T${i.toString(36).toUpperCase().padStart(6, '0')}-BENCH-TRADE`;
    const orderId = `O${id}`;
    const price = (30000 + (i % 5000) / 10).toFixed(1);
    const side = i % 2 ? 'sell' : 'buy';
    const timestamp = new Date(legacy ? CUTOFF.getTime() - 60_000 * (i + 1) : start + i * 1000);
    exchange.push({ id, orderId, symbol: 'BTC/USD', side, quantity: '0.01000000', price, fee: '0.78000', feeCurrency: 'USD', timestamp });
    if (!legacy) fills.push({ clientOrderId: `ctb-${i}`, exchangeTradeId: id, exchangeOrderId: orderId, side, quantity: mismatch ? '0.09' : '0.01', price, filledAt: timestamp });
  }
  exchange.reverse(); // the exchange answers newest first
  return { fills, exchange };
}

/** One statement: the fills as one JSON parameter (paper copies beside them, which the load must skip). */
async function seed(database: Database, fills: Fill[]): Promise<void> {
  const json = JSON.stringify(fills.map((f) => ({ c: f.clientOrderId, t: f.exchangeTradeId, o: f.exchangeOrderId, s: f.side, q: f.quantity, p: f.price, a: f.filledAt.toISOString() })));
  await database.db.execute(sql`
    insert into fills (intent_id, client_order_id, exchange_trade_id, exchange_order_id, mode, feed, symbol, side, quantity, price, fee, fee_currency, filled_at)
    select row_number() over (), u.c, u.t, u.o, modes.m, 'kraken', 'BTC/USD', u.s, u.q::numeric, u.p::numeric, 0.78, 'USD', u.a::timestamptz
    from jsonb_to_recordset(${json}::jsonb) as u(c text, t text, o text, s text, q text, p text, a text)
    cross join (values ('live'), ('paper')) as modes(m)`);
  await database.db.execute(sql`analyze fills`);
}

interface Case { n: number; database: Database; exchange: ExchangeTrade[] }

function endToEnd(c: Case): Promise<{ ms: number; loadMs: number; cpuMs: number; matched: number; mismatched: number; legacy: number }> {
  gc?.();
  return (async () => {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const ledger = await loadLiveFills(c.database.db);
    const t1 = performance.now();
    const r = matchTrades(ledger, c.exchange, { legacyBefore: firstFillAt(ledger) ?? CUTOFF });
    balanceDiffs(ledger, [{ asset: 'BTC', total: '0', free: '0', used: '0' }]);
    const t2 = performance.now();
    const cpu = process.cpuUsage(cpu0);
    if (ledger.length !== c.n - c.n / 100) throw new Error(`loaded ${ledger.length} live fills, expected ${c.n - c.n / 100}`);
    return { ms: t2 - t0, loadMs: t1 - t0, cpuMs: (cpu.user + cpu.system) / 1000, matched: r.matched, mismatched: r.mismatched.length, legacy: r.legacyUnmatched.length };
  })();
}

/** The anchor: a bare hash join over the same rows, already in memory. */
function bareJoin(fills: Fill[], exchange: ExchangeTrade[]): number {
  gc?.();
  const t0 = performance.now();
  const byId = new Map<string, ExchangeTrade>();
  for (const t of exchange) byId.set(t.id, t);
  let same = 0;
  for (const f of fills) if (byId.get(f.exchangeTradeId)?.quantity === f.quantity) same += 1;
  const ms = performance.now() - t0;
  if (same < 0) throw new Error('unreachable');
  return ms;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;

console.log(`reconcile bench: load + match + balances on ${KIND === 'postgres' ? 'PostgreSQL' : 'PGlite (in memory) — not the floor\'s database'}, exchange history already fetched; not timed: the report (built, then written to REPORTS_DIR) and the reconciliation standing read before it, as \`ctb reconcile\` does both; node ${process.version}; GC before each run: ${gc ? 'yes' : 'NO (run with node --expose-gc)'}; ${ROUNDS} rounds after ${WARMUP} warm-ups`);
console.log(`before: ${load()}`);
const cases: (Case & { fills: Fill[] })[] = [];
try {
  for (const n of [100_000, 200_000]) {
    const database = KIND === 'postgres' ? await postgresAsShipped() : await createPgliteTestDb();
    const d = dataset(n);
    cases.push({ n, database, exchange: d.exchange, fills: d.fills });
    await seed(database, d.fills);
  }
  const [small, large] = cases as [Case & { fills: Fill[] }, Case & { fills: Fill[] }];
  for (let i = 0; i < WARMUP; i++) {
    await endToEnd(small);
    await endToEnd(large);
  }
  const rows: { small: number; large: number; smallLoad: number; largeLoad: number; smallCpu: number; bareSmall: number; bareLarge: number }[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    let s: Awaited<ReturnType<typeof endToEnd>>;
    let l: Awaited<ReturnType<typeof endToEnd>>;
    if (round % 2 === 1) {
      s = await endToEnd(small);
      l = await endToEnd(large);
    } else {
      l = await endToEnd(large);
      s = await endToEnd(small);
    }
    const row = { small: s.ms, large: l.ms, smallLoad: s.loadMs, largeLoad: l.loadMs, smallCpu: s.cpuMs, bareSmall: bareJoin(small.fills, small.exchange), bareLarge: bareJoin(large.fills, large.exchange) };
    rows.push(row);
    console.log(`round ${round}: 100k ${row.small.toFixed(0)} ms (load ${row.smallLoad.toFixed(0)}, this process's CPU ${row.smallCpu.toFixed(0)}), 200k ${row.large.toFixed(0)} ms (load ${row.largeLoad.toFixed(0)}),` +
      ` ratio ${(row.large / row.small).toFixed(2)}× (${round % 2 === 1 ? '100k first' : '200k first'}) | bare hash join 100k ${row.bareSmall.toFixed(1)} ms, 200k ${row.bareLarge.toFixed(1)} ms` +
      ` | matched ${s.matched}/${l.matched}, mismatched ${s.mismatched}/${l.mismatched}, legacy ${s.legacy}/${l.legacy} | ${load()}`);
  }
  const m = (k: keyof (typeof rows)[number]) => median(rows.map((r) => r[k]));
  const ratio = median(rows.map((r) => r.large / r.small));
  // Each order's own median beside the floor's, so an effect of which size ran first shows.
  const byOrder = (odd: number) => {
    const own = rows.filter((_, i) => (i + 1) % 2 === odd).map((r) => r.large / r.small);
    return own.length > 0 ? `${median(own).toFixed(2)}×` : '—';
  };
  const fast = m('small') < 500;
  const linear = ratio <= 2.2;
  console.log(`median: 100k ${m('small').toFixed(0)} ms (load ${m('smallLoad').toFixed(0)} ms, this process's CPU ${m('smallCpu').toFixed(0)} ms) [floor < 500 ms: ${fast ? 'PASS' : 'FAIL'}],` +
    ` 200k ${m('large').toFixed(0)} ms, 200k/100k ${ratio.toFixed(2)}× [floor ≤ 2.2×: ${linear ? 'PASS' : 'FAIL'}]` +
    ` (rounds with 100k first ${byOrder(1)}, with 200k first ${byOrder(0)});` +
    ` anchor bare hash join 100k ${m('bareSmall').toFixed(1)} ms, 200k ${m('bareLarge').toFixed(1)} ms (end to end = ${(m('small') / m('bareSmall')).toFixed(1)}× bare at 100k)`);
  if (!fast || !linear) process.exitCode = 1;
} finally {
  for (const c of cases) await c.database.close();
}
console.log(`after: ${load()}`);
