// Generates samples/replay-btc-usd-1m.csv: a realistic, deterministic run of 1-minute BTC/USD candles
// (geometric random walk with trending and ranging regimes, per-minute volatility ~0.08%, lognormal
// volume) for the replay feed. Re-run: node --import tsx scripts/generate-replay-sample.ts [candles] [out]
import { writeFileSync } from 'node:fs';
import { generateCandles } from '../src/market/synthetic.js';

const count = Number(process.argv[2] ?? 4000);
const out = process.argv[3] ?? 'samples/replay-btc-usd-1m.csv';
const candles = generateCandles({ symbol: 'BTC/USD', count, start: new Date('2026-01-05T00:00:00Z'), startPrice: 65_000, seed: 20260105 });
const lines = ['time,symbol,open,high,low,close,volume'];
for (const c of candles) {
  lines.push([c.openTime.toISOString(), c.symbol, c.open.toFixed(1), c.high.toFixed(1), c.low.toFixed(1), c.close.toFixed(1), c.volume.toFixed(6)].join(','));
}
writeFileSync(out, `${lines.join('\n')}\n`);
console.log(`wrote ${candles.length} candles to ${out}`);
