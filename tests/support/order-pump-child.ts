// A worker's order path in a child process, for the web/worker kill test: it sends live market
// orders to Kraken through the engine's own executor (intent written with the halt check, then
// AddOrder) one after another, as fast as they go, and never looks for a halt by itself — no halt
// watcher, no latch — so only the database fence in the intent's statement can stop it.
// Built before the run (tests/support/build-children.ts); a test starts it with
// node childScript('order-pump-child') <database-url> <kraken-url> <api-key> <api-secret> <log-dir>
import { ALONE_BY_CONSTRUCTION } from '../../src/engine/ledger/intent-lease.js';
import { buildAppContext } from '../../src/app/build-context.js';
import { testConfig } from '../../src/config/env.js';
import { connectPostgres } from '../../src/db/client.js';
import { executeOrder } from '../../src/engine/order-executor.js';
import { Portfolio } from '../../src/engine/portfolio.js';
import { silentLogger } from '../../src/logger.js';
import { dec } from '../../src/money.js';

const [url, krakenUrl, key, secret, logDir] = process.argv.slice(2) as [string, string, string, string, string];
const database = connectPostgres(url, { max: 3 });
const ctx = await buildAppContext({
  config: testConfig({ IS_LIVE: 'true', KRAKEN_API_KEY: key, KRAKEN_API_SECRET: secret, KRAKEN_API_URL: krakenUrl, KRAKEN_RATE_LIMIT: 'false', LOG_DIR: logDir }),
  database, logger: silentLogger(), alerts: () => ({ raise: async () => {} }),
});
// The price the engine's market feed would have given (the pre-trade funds check needs one).
ctx.prices.update({ candle: { symbol: 'BTC/USD', openTime: new Date(), open: 50_000, high: 50_000, low: 50_000, close: 50_000, volume: 1 } });
const exchange = ctx.exchanges.kraken();
await exchange.loadMarkets();
const portfolio = await Portfolio.load(exchange, [], 'USD');
const counts: Record<string, number> = {};
process.on('SIGTERM', () => {
  process.stdout.write(`${JSON.stringify(counts)}\n`);
  process.exit(0);
});
for (;;) {
  const outcome = await executeOrder(
    { lease: ALONE_BY_CONSTRUCTION, ctx, mode: 'live', feed: 'kraken', exchange, portfolio },
    { purpose: 'entry', strategy: 'pump', symbol: 'BTC/USD', side: 'buy', quantity: dec('0.001'), reason: 'pump' },
  ).catch((err: unknown) => ({ kind: `error: ${(err as Error).message}` }));
  counts[outcome.kind] = (counts[outcome.kind] ?? 0) + 1;
  if (outcome.kind !== 'recorded' && outcome.kind !== 'skipped') process.stderr.write(`${JSON.stringify(outcome)}\n`);
  await new Promise((r) => setTimeout(r, 5));
}
