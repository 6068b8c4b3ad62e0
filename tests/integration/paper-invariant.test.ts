// Invariant 1: with IS_LIVE false, no private Kraken endpoint is ever called in paper mode, whatever
// the database says. The network edge is nock: Kraken's public API answers the market feed; every
// private endpoint is recorded (and would answer), so a single private call fails the test.
import nock from 'nock';
import { sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startBot } from '../../src/app/runtime.js';
import { testConfig } from '../../src/config/env.js';
import { execute } from '../../src/db/client.js';
import { orderIntents, paperOrders, trades } from '../../src/db/schema/index.js';
import { engineFeature } from '../../src/app/features/engine.js';
import { silentLogger } from '../../src/logger.js';
import { getBotState, updateBotState } from '../../src/services/bot-state.js';
import { systemClock } from '../../src/clock.js';
import { createPostgresTestDb, type TestDatabase } from '../support/db.js';
import { maCross, roundTripCloses } from '../support/engine.js';
import { waitUntil } from '../support/bot-process.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const KRAKEN = 'https://kraken.invariant.test';
const KEY = 'aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5bC7dE9fG1hJ3kL5mN7pQ';
const SECRET = Buffer.from('s'.repeat(64)).toString('base64');

const assets = { XXBT: { aclass: 'currency', altname: 'XBT', decimals: 10, display_decimals: 5, status: 'enabled' }, ZUSD: { aclass: 'currency', altname: 'USD', decimals: 4, display_decimals: 2, status: 'enabled' } };
const pairs = {
  XXBTZUSD: {
    altname: 'XBTUSD', wsname: 'XBT/USD', aclass_base: 'currency', base: 'XXBT', aclass_quote: 'currency', quote: 'ZUSD', lot: 'unit',
    cost_decimals: 5, pair_decimals: 1, lot_decimals: 8, lot_multiplier: 1, leverage_buy: [], leverage_sell: [], fees: [[0, 0.26]], fees_maker: [[0, 0.16]],
    fee_volume_currency: 'ZUSD', margin_call: 80, margin_stop: 40, ordermin: '0.00005', costmin: '0.5', tick_size: '0.1', status: 'online',
  },
};

describe('paper mode never reaches a private Kraken endpoint', () => {
  let database: TestDatabase;
  const privateCalls: string[] = [];
  beforeAll(async () => {
    database = await createPostgresTestDb();
  });
  afterAll(async () => {
    await database?.close();
  });
  afterEach(() => {
    nock.cleanAll();
  });

  it('trades paper on the Kraken feed while bot_state says live and keys are set, calling public endpoints only', async () => {
    // Warm-up history, then a V (cross up → entry, cross down → exit), three more candles per poll.
    const closes = [...Array.from({ length: 10 }, () => 60_000), ...roundTripCloses()];
    const t0 = Date.UTC(2026, 0, 5, 0, 0) / 1000;
    let polls = 0;
    // The market stays flat (the warm-up only) until bot_state says live again behind the engine (below).
    let released = false;
    const publicCalls: string[] = [];
    nock(KRAKEN).persist()
      .get(/\/0\/public\/.*/).reply((uri) => {
        const endpoint = /\/0\/public\/(\w+)/.exec(uri)![1]!;
        publicCalls.push(endpoint);
        if (endpoint === 'Assets') return [200, { error: [], result: assets }];
        if (endpoint === 'AssetPairs') return [200, { error: [], result: pairs }];
        if (endpoint === 'Ticker') {
          const last = String(closes[Math.min(closes.length - 1, 10 + polls * 3)]);
          return [200, { error: [], result: { XXBTZUSD: { a: [last, '1', '1'], b: [last, '1', '1'], c: [last, '0.1'], v: ['500', '900'], p: [last, last], t: [10, 20], l: [last, last], h: [last, last], o: last } } }];
        }
        if (endpoint === 'OHLC') {
          const shown = released ? Math.min(closes.length, 11 + polls * 3) : 11;
          if (released) polls += 1;
          const rows = closes.slice(0, shown).map((c, i) => [t0 + i * 60, String(c), String(c), String(c), String(c), String(c), '50', 10]);
          return [200, { error: [], result: { XXBTZUSD: rows, last: t0 + (shown - 1) * 60 } }];
        }
        return [200, { error: ['EGeneral:Unknown method'] }];
      })
      .post(/\/0\/private\/.*/).reply((uri) => {
        privateCalls.push(uri);
        return [200, { error: [], result: {} }];
      });

    // The database says live; the process is not armed.
    await updateBotState(database.db, systemClock, { mode: 'live' });
    const strategiesFile = join(mkdtempSync(join(tmpdir(), 'ctb-strat-')), 'strategies.json');
    writeFileSync(strategiesFile, JSON.stringify({ strategies: [maCross({ limits: { minVolume24hQuote: 1_000_000 } })] }));
    const config = testConfig({
      STRATEGIES_FILE: strategiesFile,
      IS_LIVE: 'false', KRAKEN_API_KEY: KEY, KRAKEN_API_SECRET: SECRET, KRAKEN_API_URL: KRAKEN, MARKET_POLL_INTERVAL: '20ms',
      TRADING_PAIRS: 'BTC/USD', LOG_DIR: join(tmpdir(), 'ctb-test-logs'), EQUITY_SNAPSHOT_INTERVAL: '1m',
    });
    const bot = await startBot({
      config, role: 'worker', feed: 'kraken', port: 0, logger: silentLogger(), database,
      features: [engineFeature({ standbyPollMs: 50, market: { enableRateLimit: false } })],
    });
    try {
      // Taking the lease unarmed, the engine withdrew the live approval (services/mode/withdraw-unarmed-live.ts).
      // bot_state is written live again behind its back, and only then does the market move: it still trades paper.
      await waitUntil(async () => (await getBotState(database.db)).mode === 'paper', 60_000, () => 'for the engine to withdraw the live approval');
      await updateBotState(database.db, systemClock, { mode: 'live' });
      released = true;
      const deadline = Date.now() + 60_000;
      while (Date.now() < deadline) {
        const closed = await execute<{ n: number }>(database.db, sql`select count(*)::int as n from ${trades} where status = 'closed'`);
        if ((closed[0]?.n ?? 0) >= 1) break;
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      await bot.stop();
    }
    const intents = await database.db.select().from(orderIntents);
    expect(intents.length).toBeGreaterThanOrEqual(2);
    expect(new Set(intents.map((i) => i.mode))).toEqual(new Set(['paper']));
    expect(new Set(intents.map((i) => i.feed))).toEqual(new Set(['kraken']));
    expect((await database.db.select().from(paperOrders)).length).toBe(intents.filter((i) => i.status === 'filled').length);
    expect((await database.db.select().from(trades)).filter((t) => t.status === 'closed').length).toBeGreaterThanOrEqual(1);
    expect(publicCalls).toContain('OHLC');
    expect(privateCalls).toEqual([]);
    expect((await getBotState(database.db)).mode).toBe('live'); // untouched since: only IS_LIVE arms
  }, 120_000);
});
