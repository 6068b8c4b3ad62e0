// Bench: the reconciliation's matching step (matchTrades, pure, no I/O) over N ledger fills and N
// exchange trades, 1 % of them mismatched and 1 % legacy exchange trades the ledger lacks.
// Floor: 100,000 in at most 1 s on the project machine, and 200,000 at most 2.2× the 100,000 time.
// Run: npm run bench:reconcile
import { performance } from 'node:perf_hooks';
import type { ExchangeTrade } from '../src/exchange/types.js';
import { matchTrades, type LedgerFill } from '../src/services/reconcile/match.js';

const CUTOFF = new Date('2026-01-01T00:00:00Z');

function dataset(n: number): { ledger: LedgerFill[]; exchange: ExchangeTrade[] } {
  const ledger: LedgerFill[] = [];
  const exchange: ExchangeTrade[] = [];
  const start = CUTOFF.getTime() + 60_000;
  for (let i = 0; i < n; i++) {
    const legacy = i % 100 === 50; // 1 %: on the exchange before the ledger began, not in the ledger
    const mismatch = i % 100 === 7; // 1 %: quantity differs
    const id = `T${i.toString(36).toUpperCase().padStart(6, '0')}-BENCH-TRADE`;
    const price = (30000 + (i % 5000) / 10).toFixed(1);
    const timestamp = new Date(legacy ? CUTOFF.getTime() - 60_000 * (i + 1) : start + i * 1000);
    exchange.push({ id, orderId: `O${id}`, symbol: 'BTC/USD', side: i % 2 ? 'sell' : 'buy', quantity: '0.01000000', price, fee: '0.78000', feeCurrency: 'USD', timestamp });
    if (legacy) continue;
    ledger.push({
      id: i, clientOrderId: `ctb-${i}`, exchangeTradeId: id, exchangeOrderId: `O${id}`, symbol: 'BTC/USD', side: i % 2 ? 'sell' : 'buy',
      quantity: mismatch ? '0.020000000000000000' : '0.010000000000000000', price: `${price}00000000000000000`, fee: '0.780000000000000000', filledAt: timestamp,
    });
  }
  // The exchange answers newest first; the ledger is read oldest first.
  exchange.reverse();
  return { ledger, exchange };
}

function time(n: number, runs = 3): { ms: number; matched: number; mismatched: number; legacy: number } {
  const { ledger, exchange } = dataset(n);
  let best = Infinity;
  let last = matchTrades(ledger, exchange, { legacyBefore: CUTOFF }); // warm-up
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    last = matchTrades(ledger, exchange, { legacyBefore: CUTOFF });
    best = Math.min(best, performance.now() - t0);
  }
  return { ms: best, matched: last.matched, mismatched: last.mismatched.length, legacy: last.legacyUnmatched.length };
}

const small = time(100_000);
const large = time(200_000);
const ratio = large.ms / small.ms;
console.log(`matching 100,000 fills: ${small.ms.toFixed(1)} ms (matched ${small.matched}, mismatched ${small.mismatched}, legacy ${small.legacy})`);
console.log(`matching 200,000 fills: ${large.ms.toFixed(1)} ms (matched ${large.matched}, mismatched ${large.mismatched}, legacy ${large.legacy})`);
console.log(`200k/100k ratio: ${ratio.toFixed(2)}× (floor ≤ 2.2×); 100k floor 1000 ms: ${small.ms <= 1000 ? 'met' : 'MISSED'}; ratio: ${ratio <= 2.2 ? 'met' : 'MISSED'}`);
if (small.ms > 1000 || ratio > 2.2) process.exitCode = 1;
