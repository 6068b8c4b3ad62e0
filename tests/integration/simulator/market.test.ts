import { describe, expect, it } from 'vitest';
import { testConfig } from '../../../src/config/env.js';
import { createKrakenPublicMarket } from '../../../src/exchange/kraken/public-market.js';
import { SAMPLE_REPLAY_FILE } from '../../../src/market/create-feed.js';
import { KrakenFeed } from '../../../src/market/kraken-feed.js';
import { readReplayFile } from '../../../src/market/replay-file.js';
import { adapterFor, control, privateCall, startSimulator } from '../../support/simulator.js';

const sample = readReplayFile(SAMPLE_REPLAY_FILE);

describe("the simulator's market: the replay sample as Kraken OHLC and Ticker", () => {
  it("feeds the bot's Kraken market feed the replay candles, and fills at the price that feed just saw", async () => {
    const sim = await startSimulator({ replay: sample, fixedPrices: {}, historyCandles: 30 });
    const market = await createKrakenPublicMarket(testConfig({ KRAKEN_API_URL: sim.url }), { enableRateLimit: false });
    const feed = new KrakenFeed(market, ['BTC/USD'], 1);
    const signal = new AbortController().signal;
    const warmup = (await feed.next(signal))!;
    expect(warmup).toHaveLength(30);
    expect(warmup.every((t) => t.warmup)).toBe(true);
    expect(warmup.map((t) => t.candle.close)).toEqual(sample.slice(0, 30).map((c) => c.close));
    expect(warmup[1]!.candle.openTime.getTime() - warmup[0]!.candle.openTime.getTime()).toBe(60_000);
    sim.advance(1);
    const next = (await feed.next(signal))!;
    expect(next.map((t) => [t.candle.close, t.warmup])).toEqual([[sample[30]!.close, undefined]]);
    expect(next[0]!.candle.openTime.getTime() - warmup[29]!.candle.openTime.getTime()).toBe(60_000);
    const placed = await adapterFor(sim).createOrder({ clientOrderId: 'm-1', symbol: 'BTC/USD', side: 'buy', type: 'market', quantity: '0.01' });
    const order = (await privateCall(sim, 'QueryOrders', { txid: placed.exchangeOrderId })).body.result[placed.exchangeOrderId];
    expect(Number(order.price)).toBe(next[0]!.candle.close);
  });

  it('answers Ticker from the same path, with bid and ask at the prices market orders fill at', async () => {
    const sim = await startSimulator({ replay: sample, fixedPrices: {}, historyCandles: 10, slippageBps: 10 });
    const ticker = await adapterFor(sim).fetchTicker('BTC/USD');
    const last = sample[9]!.close;
    expect(Number(ticker.last)).toBe(last);
    expect(Number(ticker.ask)).toBeCloseTo(last * 1.001, 0);
    expect(Number(ticker.bid)).toBeCloseTo(last * 0.999, 0);
    expect(Number(ticker.quoteVolume24h)).toBeGreaterThan(0);
  });

  it('loops the replay without a jump: the next loop is rescaled to continue from the last close', async () => {
    const short = sample.slice(0, 20);
    const sim = await startSimulator({ replay: short, fixedPrices: {}, historyCandles: 10 });
    sim.advance(10);
    const endOfFirstLoop = Number(sim.state.tickers['XXBTZUSD']);
    expect(endOfFirstLoop).toBe(short[19]!.close);
    sim.advance(1);
    const scaled = short[0]!.close * (short[19]!.close / short[0]!.open);
    expect(Number(sim.state.tickers['XXBTZUSD'])).toBeCloseTo(scaled, 0);
  });

  it('stops the market at the end of the replay when not looping', async () => {
    const sim = await startSimulator({ replay: sample.slice(0, 20), fixedPrices: {}, historyCandles: 10, loop: false });
    sim.advance(50);
    expect(sim.ctx.path.ended).toBe(true);
    expect(sim.state.tickers['XXBTZUSD']).toBe(sample[19]!.close.toFixed(1));
  });

  it('takes a price from the control API and fills resting orders the move crosses; resumes the replay on request', async () => {
    const sim = await startSimulator({ replay: sample, fixedPrices: {}, historyCandles: 10 });
    const kraken = adapterFor(sim);
    const placed = await kraken.createOrder({ clientOrderId: 'l-1', symbol: 'BTC/USD', side: 'buy', type: 'limit', quantity: '0.01', limitPrice: '60000.0' });
    expect((await control(sim, 'POST', 'price', { pair: 'BTC/USD', price: '59999.9' })).json).toEqual({ pair: 'BTC/USD', mode: 'fixed', price: '59999.9' });
    expect(sim.state.orders.get(placed.exchangeOrderId)!.status).toBe('closed');
    expect((await control(sim, 'POST', 'price', { pair: 'BTC/USD', price: 'cheap' })).status).toBe(400);
    expect((await control(sim, 'POST', 'price', { pair: 'BTC/USD', replay: true })).json).toMatchObject({ mode: 'replay' });
    sim.advance(1);
    expect(Number(sim.state.tickers['XXBTZUSD'])).toBe(sample[10]!.close);
  });

  it('paces itself: candles close on their own at the configured rate', async () => {
    const sim = await startSimulator({ replay: sample, fixedPrices: {}, historyCandles: 10, pace: 20 });
    const before = sim.ctx.path.closedCandles;
    const started = performance.now();
    await new Promise((r) => setTimeout(r, 600));
    const closed = sim.ctx.path.closedCandles - before;
    const expected = ((performance.now() - started) / 1000) * 20; // 20 a second of wall-clock time
    expect(closed).toBeGreaterThanOrEqual(Math.floor(expected) - 3);
    expect(closed).toBeLessThanOrEqual(Math.ceil(expected) + 1);
  });
});
