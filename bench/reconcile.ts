// Bench: the reconciliation's matching step (matchTrades, pure, no I/O) over N ledger fills and N
// exchange trades, 1 % of them mismatched and 1 % legacy exchange trades the ledger lacks.
// Floor (issue 3): 100,000 in at most 1 s on the project machine, and 200,000 at most 2.2× the
// 100,000 time. The machine is shared, so the figures are made robust: both sizes are warmed up
// (JIT), then measured RUNS times each, alternating 100k and 200k so load drift hits both alike,
// with a full GC before every timed run. The 1 s floor is judged on the median 100k time; the 2.2×
// floor on the median of the per-round ratios (each 200k run over the 100k run just before it, so
// both saw the same load) — ratios of medians and of bests are printed beside it.
// A second scenario joins every fill by order id only (several partial trades per order) to show
// the fallback join is linear too. Load is printed from `uptime` before and after.
// Run: npm run bench:reconcile   (RUNS=25 npm run bench:reconcile for more runs)
import { execFileSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import type { ExchangeTrade } from '../src/exchange/types.js';
import { matchTrades, type LedgerFill } from '../src/services/reconcile/match.js';

const CUTOFF = new Date('2026-01-01T00:00:00Z');
const RUNS = Math.max(3, Number(process.env['RUNS'] ?? 15));
const WARMUP = 3;
const gc = (globalThis as { gc?: () => void }).gc;

interface Dataset {
  ledger: LedgerFill[];
  exchange: ExchangeTrade[];
}

/** `byOrderOnly`: fills carry no trade id (recorded before it was known) and 4 trades share an order. */
function dataset(n: number, byOrderOnly = false): Dataset {
  const ledger: LedgerFill[] = [];
  const exchange: ExchangeTrade[] = [];
  const start = CUTOFF.getTime() + 60_000;
  for (let i = 0; i < n; i++) {
    const legacy = i % 100 === 50; // 1 %: on the exchange before the ledger began, not in the ledger
    const mismatch = i % 100 === 7; // 1 %: quantity differs
    const id = `T${i.toString(36).toUpperCase().padStart(6, '0')}-BENCH-TRADE`;
    const orderId = byOrderOnly ? `O${Math.floor(i / 4).toString(36).toUpperCase()}-BENCH` : `O${id}`;
    const price = (30000 + (i % 5000) / 10).toFixed(1);
    const quantity = byOrderOnly ? `0.0${1 + (i % 4)}000000` : '0.01000000';
    const timestamp = new Date(legacy ? CUTOFF.getTime() - 60_000 * (i + 1) : start + i * 1000);
    exchange.push({ id, orderId, symbol: 'BTC/USD', side: i % 2 ? 'sell' : 'buy', quantity, price, fee: '0.78000', feeCurrency: 'USD', timestamp });
    if (legacy) continue;
    ledger.push({
      id: i, clientOrderId: `ctb-${i}`, exchangeTradeId: byOrderOnly ? `pending-${i}` : id, exchangeOrderId: orderId, symbol: 'BTC/USD', side: i % 2 ? 'sell' : 'buy',
      quantity: mismatch ? '0.090000000000000000' : `${quantity}0000000000`, price: `${price}00000000000000000`, fee: '0.780000000000000000', filledAt: timestamp,
    });
  }
  // The exchange answers newest first; the ledger is read oldest first.
  exchange.reverse();
  return { ledger, exchange };
}

function once(d: Dataset): { ms: number; matched: number; mismatched: number; legacy: number; missing: number; recent: number } {
  gc?.();
  const t0 = performance.now();
  const r = matchTrades(d.ledger, d.exchange, { legacyBefore: CUTOFF });
  const ms = performance.now() - t0;
  return { ms, matched: r.matched, mismatched: r.mismatched.length, legacy: r.legacyUnmatched.length, missing: r.missingOnExchange.length, recent: r.recentUnmatched.length };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

function scenario(name: string, byOrderOnly: boolean): { small: number; large: number; ratio: number } {
  const small = dataset(100_000, byOrderOnly);
  const large = dataset(200_000, byOrderOnly);
  for (let i = 0; i < WARMUP; i++) {
    once(small);
    once(large);
  }
  const times = { small: [] as number[], large: [] as number[] };
  let last = { small: once(small), large: once(large) };
  for (let r = 0; r < RUNS; r++) {
    last = { small: once(small), large: once(large) };
    times.small.push(last.small.ms);
    times.large.push(last.large.ms);
  }
  const line = (n: string, t: number[], c: ReturnType<typeof once>) =>
    `  ${n} fills: median ${median(t).toFixed(1)} ms (best ${Math.min(...t).toFixed(1)}, worst ${Math.max(...t).toFixed(1)}) — matched ${c.matched}, mismatched ${c.mismatched}, legacy ${c.legacy}, missing ${c.missing}, recent unmatched ${c.recent}`;
  console.log(`${name}:`);
  console.log(line('100,000', times.small, last.small));
  console.log(line('200,000', times.large, last.large));
  const ratio = median(times.large.map((l, i) => l / times.small[i]!));
  const ofMedians = median(times.large) / median(times.small);
  const ofBests = Math.min(...times.large) / Math.min(...times.small);
  console.log(`  200k/100k: median of per-round ratios ${ratio.toFixed(2)}× (ratio of medians ${ofMedians.toFixed(2)}×, of bests ${ofBests.toFixed(2)}×)`);
  return { small: median(times.small), large: median(times.large), ratio };
}

const uptime = () => {
  try {
    return execFileSync('uptime', { encoding: 'utf8' }).trim();
  } catch {
    return '(uptime unavailable)';
  }
};

console.log(`reconcile bench — node ${process.version}, ${RUNS} timed runs per size after ${WARMUP} warm-ups, GC before each run: ${gc ? 'yes' : 'NO (run with node --expose-gc)'}`);
console.log(`load before: ${uptime()}`);
const main = scenario('by trade id (1 % mismatched, 1 % legacy) — the issue’s floor', false);
scenario('by order id only (4 partial trades per order; linearity of the fallback join)', true);
console.log(`load after:  ${uptime()}`);
const fast = main.small <= 1000;
const linear = main.ratio <= 2.2;
console.log(`floor: 100,000 in ${main.small.toFixed(1)} ms ≤ 1000 ms ${fast ? 'met' : 'MISSED'}; 200,000 = ${main.ratio.toFixed(2)}× ≤ 2.2× ${linear ? 'met' : 'MISSED'}`);
if (!fast || !linear) process.exitCode = 1;
