// ccxt loads Kraken's markets (Assets, AssetPairs) before the first call that needs them and kept a
// failed load for the client's life: a bot started (or handed the engine) while Kraken was down or
// not answering never asked Kraken again, and its feed stayed silent, its orders refused, until a
// restart. Against the simulator over real HTTP, on the shipped paths (createMarketFeed, the keyed
// KrakenExchange), a Kraken that comes up or answers again is used on the next try.
import { describe, expect, it } from 'vitest';
import { testConfig } from '../../../src/config/env.js';
import { KrakenExchange } from '../../../src/exchange/kraken/kraken-exchange.js';
import { silentLogger } from '../../../src/logger.js';
import { createMarketFeed } from '../../../src/market/create-feed.js';
import type { KrakenSimulator } from '../../../src/simulator/simulator.js';
import { freePort } from '../../support/free-port.js';
import { TEST_API_KEY, TEST_API_SECRET } from '../../support/kraken-test-keys.js';
import { privateCall, startSimulator } from '../../support/simulator.js';

const signal = new AbortController().signal;
const callsTo = (sim: KrakenSimulator, endpoint: string) => sim.calls.filter((c) => c.endpoint === endpoint);


function keyedAdapter(url: string): KrakenExchange {
  const config = testConfig({ KRAKEN_API_KEY: TEST_API_KEY, KRAKEN_API_SECRET: TEST_API_SECRET, KRAKEN_API_URL: url });
  return new KrakenExchange(config, { logger: silentLogger(), armed: true, enableRateLimit: false });
}

describe("the market feed after a failed load of Kraken's markets", () => {
  it('gets candles without a restart once a Kraken that was down at start comes up, and says the markets load is tried again', async () => {
    const port = await freePort();
    const config = testConfig({ KRAKEN_API_URL: `http://127.0.0.1:${port}`, MARKET_FEED: 'kraken', MARKET_POLL_INTERVAL: '1s' });
    const feed = await createMarketFeed(config, 'kraken', { enableRateLimit: false });
    await expect(feed.next(signal)).rejects.toThrow(/did not answer OHLC for BTC\/USD \(loading its markets; loaded again on the next try\)/);

    const sim = await startSimulator({ port });
    const batch = (await feed.next(signal))!;
    expect(batch.length).toBeGreaterThan(0);
    expect(batch.every((t) => t.candle.symbol === 'BTC/USD')).toBe(true);
    expect(callsTo(sim, 'AssetPairs')).toHaveLength(1);
  });

  it('gets candles once a Kraken that did not answer the markets load in time answers again (a paused Kraken)', async () => {
    const sim = await startSimulator();
    const config = testConfig({ KRAKEN_API_URL: sim.url, MARKET_FEED: 'kraken', MARKET_POLL_INTERVAL: '1s', KRAKEN_REQUEST_TIMEOUT: '1s' });
    const feed = await createMarketFeed(config, 'kraken', { enableRateLimit: false });
    const release = sim.hold('Assets');
    await expect(feed.next(signal)).rejects.toThrow(/did not answer OHLC for BTC\/USD \(loading its markets/);
    release();

    const batch = (await feed.next(signal))!;
    expect(batch.length).toBeGreaterThan(0);
    expect(callsTo(sim, 'Assets')).toHaveLength(2);
  });
});

describe("the keyed Kraken client after a failed load of Kraken's markets", () => {
  it('reads the balances and places an order once a Kraken that was down at start comes up', async () => {
    const port = await freePort();
    const kraken = keyedAdapter(`http://127.0.0.1:${port}`);
    await kraken.warm(); // as at the bot's start: the markets load fails in the background
    await expect(kraken.fetchBalances()).rejects.toMatchObject({
      kind: 'retryable', message: expect.stringMatching(/^Kraken's markets \(Assets, AssetPairs\) could not be loaded, and are loaded again on the next call: /),
    });

    const sim = await startSimulator({ port });
    expect(await kraken.fetchBalances()).toContainEqual(expect.objectContaining({ asset: 'USD', total: '10000' }));
    const order = await kraken.createOrder({ clientOrderId: 'after-kraken-up', symbol: 'BTC/USD', side: 'buy', type: 'market', quantity: '0.01' });
    expect(order).toMatchObject({ symbol: 'BTC/USD', status: 'closed', filledQuantity: '0.01' });
    expect(callsTo(sim, 'AddOrder')).toHaveLength(1);
  });

  it("names an order left open (a kill's confirming look) once a Kraken that was down at start comes up", async () => {
    const port = await freePort();
    const kraken = keyedAdapter(`http://127.0.0.1:${port}`);
    await expect(kraken.loadMarkets()).rejects.toMatchObject({ kind: 'retryable' });

    const sim = await startSimulator({ port });
    const placed = await privateCall(sim, 'AddOrder', { pair: 'XBTUSD', type: 'buy', ordertype: 'limit', price: '45000.0', volume: '0.01' });
    expect(placed.body.error).toEqual([]);
    const open = await kraken.fetchOpenOrders();
    expect(open).toEqual([expect.objectContaining({ symbol: 'BTC/USD', exchangeOrderId: placed.body.result.txid[0] })]);
  });

  it('cancels and confirms zero open orders while Kraken answers but its markets cannot be loaded', async () => {
    const sim = await startSimulator();
    const kraken = keyedAdapter(sim.url);
    const placed = await privateCall(sim, 'AddOrder', { pair: 'XBTUSD', type: 'buy', ordertype: 'limit', price: '45000.0', volume: '0.01' });
    expect(placed.body.error).toEqual([]);
    sim.faults.add({ endpoint: 'Assets', kind: 'error', message: 'EService:Unavailable', probability: 1 });
    await expect(kraken.loadMarkets()).rejects.toMatchObject({ kind: 'retryable' });

    expect(await kraken.cancelAllOrders()).toEqual({ canceled: 1 });
    expect(await kraken.fetchOpenOrders()).toEqual([]);
    await kraken.cancelAllOrdersAfter(60_000);
    expect(callsTo(sim, 'Assets')).toHaveLength(1); // the load above only
  });
});
