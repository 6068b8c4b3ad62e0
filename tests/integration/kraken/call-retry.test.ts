// The Kraken adapter (ccxt, our signing, real HTTP) against the simulator answering in Kraken's
// documented error format (`{"error":["EAPI:Invalid nonce"],"result":{}}`): a call Kraken refused for
// its nonce is sent again with a fresh nonce, a few times; an operator's read refused for the rate
// limit waits and asks again when asked to, saying so; AddOrder is never sent again on the rate limit.
import { executionAsyncId } from 'node:async_hooks';
import { describe, expect, it } from 'vitest';
import { testConfig } from '../../../src/config/env.js';
import { ExchangeError } from '../../../src/exchange/errors.js';
import type { RateLimitWait } from '../../../src/exchange/kraken/call-retry.js';
import { KrakenExchange, type KrakenExchangeOptions } from '../../../src/exchange/kraken/kraken-exchange.js';
import { silentLogger } from '../../../src/logger.js';
import type { KrakenSimulator } from '../../../src/simulator/simulator.js';
import { TEST_API_KEY, TEST_API_SECRET } from '../../support/kraken-test-keys.js';
import { privateCall, startSimulator } from '../../support/simulator.js';

const marketBuy = (clientOrderId: string) => ({ clientOrderId, symbol: 'BTC/USD', side: 'buy' as const, type: 'market' as const, quantity: '0.01' });

function adapter(sim: KrakenSimulator, opts: Partial<KrakenExchangeOptions> = {}) {
  const waits: number[] = [];
  const config = testConfig({ KRAKEN_API_KEY: TEST_API_KEY, KRAKEN_API_SECRET: TEST_API_SECRET, KRAKEN_API_URL: sim.url });
  const kraken = new KrakenExchange(config, {
    logger: silentLogger(), armed: true, enableRateLimit: false,
    sleep: async (ms) => {
      waits.push(ms);
    },
    ...opts,
  });
  return { kraken, waits };
}


const callsTo = (sim: KrakenSimulator, endpoint: string) => sim.calls.filter((c) => c.endpoint === endpoint);

describe('a private call Kraken refused for its nonce', () => {
  it('is sent again with a fresh nonce: the dead-man renewal arms Kraken\'s timer', async () => {
    const sim = await startSimulator();
    const { kraken, waits } = adapter(sim);
    sim.faults.add({ endpoint: 'CancelAllOrdersAfter', kind: 'error', message: 'EAPI:Invalid nonce' });
    await kraken.cancelAllOrdersAfter(60_000);
    expect(callsTo(sim, 'CancelAllOrdersAfter')).toHaveLength(2);
    expect(sim.state.deadMan).toMatchObject({ timeoutSeconds: 60, triggerAt: expect.any(Number) });
    expect(waits).toEqual([100]);
  });

  it('places an order refused for its nonce exactly once (a refused nonce placed nothing)', async () => {
    const sim = await startSimulator();
    const { kraken } = adapter(sim);
    await kraken.loadMarkets();
    sim.faults.add({ endpoint: 'AddOrder', kind: 'error', message: 'EAPI:Invalid nonce' });
    const order = await kraken.createOrder(marketBuy('nonce-1'));
    expect(order).toMatchObject({ clientOrderId: 'nonce-1', status: 'closed' });
    expect(callsTo(sim, 'AddOrder')).toHaveLength(2);
    expect(sim.state.orders.size).toBe(1);
  });

  it('survives another process of the same key whose higher nonce reached Kraken first (no injected fault)', async () => {
    let arrived!: () => void;
    const ours = new Promise<void>((resolve) => (arrived = resolve));
    const sim = await startSimulator({ onRequestStart: (path) => path.endsWith('/OpenOrders') && arrived() });
    const config = testConfig({ KRAKEN_API_KEY: TEST_API_KEY, KRAKEN_API_SECRET: TEST_API_SECRET, KRAKEN_API_URL: sim.url });
    const kraken = new KrakenExchange(config, { logger: silentLogger(), armed: true, enableRateLimit: false });
    await kraken.loadMarkets();
    // Our read is signed and on its way; the operator's ctb signs a read later (a higher nonce) that Kraken takes first.
    const release = sim.hold('OpenOrders');
    const reading = kraken.fetchOpenOrders();
    await ours;
    expect((await privateCall(sim, 'BalanceEx')).body.error).toEqual([]);
    release();
    await expect(reading).resolves.toEqual([]);
    expect(callsTo(sim, 'OpenOrders')).toHaveLength(2); // ours refused (EAPI:Invalid nonce), ours again
  });

  it('gives up after two retries, naming the likely causes in order: the clock, a shared key, a key used before (a new key)', async () => {
    const sim = await startSimulator();
    const { kraken, waits } = adapter(sim);
    sim.faults.add({ endpoint: 'CancelAllOrdersAfter', kind: 'error', message: 'EAPI:Invalid nonce', times: 5 });
    const err = await kraken.cancelAllOrdersAfter(60_000).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExchangeError);
    expect(err).toMatchObject({ kind: 'retryable', code: 'invalid_nonce', exchangeCode: 'EAPI:Invalid nonce' });
    expect((err as ExchangeError).hint).toMatch(/^Likely causes, most likely first: \(1\) this host's clock is behind.*\(2\) the key is shared with another process or host.*operator's ctb.*\(3\) the key was used before with larger nonces.*create a new API key/);
    expect(callsTo(sim, 'CancelAllOrdersAfter')).toHaveLength(3);
    expect(waits).toEqual([100, 500]);
    expect(sim.state.deadMan.triggerAt).toBeNull();
  });
});

describe('a key whose nonce is ahead of ours (another tool used it with microsecond nonces)', () => {
  it('is refused every time, and the error names the likely causes, a new key for a key used with larger nonces, no secret in it', async () => {
    const sim = await startSimulator();
    const { kraken } = adapter(sim);
    sim.nonces.last.set(TEST_API_KEY, BigInt(Date.now()) * 1000n);
    const err = await kraken.fetchOpenOrders().catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'invalid_nonce', exchangeCode: 'EAPI:Invalid nonce' });
    expect(callsTo(sim, 'OpenOrders')).toHaveLength(3);
    const { message, hint } = err as ExchangeError;
    expect(message).toMatch(/EAPI:Invalid nonce, 3 times in a row.*taken a larger nonce for this API key/);
    expect(message).not.toMatch(/is ahead of/); // not said as a fact: the clock here, or a shared key, refuse the same way
    expect(hint).toMatch(/clock is behind.*shared with another process or host.*used before with larger nonces.*create a new API key at Kraken.*KRAKEN_API_KEY/);
    for (const text of [message, hint]) {
      expect(text).not.toContain(TEST_API_KEY);
      expect(text).not.toContain(TEST_API_SECRET);
    }
  });
});

describe("an operator's read refused for Kraken's rate limit", () => {
  it('waits for the key\'s counter to fall and asks again, telling the caller each wait', async () => {
    const sim = await startSimulator();
    const told: RateLimitWait[] = [];
    const { kraken, waits } = adapter(sim, { onRateLimitedRead: (w) => told.push(w) });
    await kraken.loadMarkets();
    sim.faults.add({ endpoint: 'BalanceEx', kind: 'error', message: 'EAPI:Rate limit exceeded', times: 2 });
    expect((await kraken.fetchBalances()).length).toBeGreaterThan(0);
    // Starter: the counter falls 0.33 a second, so a 1-point call has room after 3 s; doubled after that.
    expect(told).toEqual([{ endpoint: 'BalanceEx', waitMs: 3031, retry: 1, of: 3 }, { endpoint: 'BalanceEx', waitMs: 6062, retry: 2, of: 3 }]);
    expect(waits).toEqual([3031, 6062]);
    expect(callsTo(sim, 'BalanceEx')).toHaveLength(3);
  });

  it('fails after three waits saying what happened and what to do', async () => {
    const sim = await startSimulator();
    const { kraken } = adapter(sim, { onRateLimitedRead: () => undefined, rateTier: 'pro' });
    sim.faults.add({ endpoint: 'OpenOrders', kind: 'error', message: 'EAPI:Rate limit exceeded', times: 10 });
    const err = (await kraken.fetchOpenOrders().catch((e: unknown) => e)) as ExchangeError;
    expect(err).toMatchObject({ kind: 'retryable', code: 'rate_limited' });
    expect(err.message).toBe("Kraken OpenOrders failed: EAPI:Rate limit exceeded, still after waiting 7 s for the API key's call counter to fall.");
    expect(err.hint).toMatch(/shared by every process using this key .*wait a minute and run the command again/);
    expect(callsTo(sim, 'OpenOrders')).toHaveLength(4);
  });

  it('never sends AddOrder again on the rate limit, and waits for nothing unless asked to', async () => {
    const sim = await startSimulator();
    const told: RateLimitWait[] = [];
    const { kraken } = adapter(sim, { onRateLimitedRead: (w) => told.push(w) });
    await kraken.loadMarkets();
    sim.faults.add({ endpoint: 'AddOrder', kind: 'error', message: 'EAPI:Rate limit exceeded' });
    await expect(kraken.createOrder(marketBuy('rate-1'))).rejects.toMatchObject({ code: 'rate_limited' });
    expect(callsTo(sim, 'AddOrder')).toHaveLength(1);
    expect(told).toEqual([]);
    const bot = adapter(sim).kraken; // the bot's adapter: no onRateLimitedRead
    sim.faults.add({ endpoint: 'BalanceEx', kind: 'error', message: 'EAPI:Rate limit exceeded' });
    await expect(bot.fetchBalances()).rejects.toMatchObject({ code: 'rate_limited' });
  });
});

describe('telling Kraken\'s own refusal from a failed delivery', () => {
  // The HTTP status of a refused call travels on the error, not in an AsyncLocalStorage around each
  // call: on Node 20 the first AsyncLocalStorage.run turns on promise hooks for the whole process for
  // good, and every promise the bot makes afterwards (Slack acks, the database, the engine) costs
  // about twice as much. With them off, a promise reaction runs with no async id (0).
  const asyncIdInReaction = () => Promise.resolve().then(() => executionAsyncId());

  it('leaves promise hooks off in the process: a refused and retried call, and a call that succeeds', async () => {
    expect(await asyncIdInReaction()).toBe(0);
    const sim = await startSimulator();
    const { kraken } = adapter(sim);
    sim.faults.add({ endpoint: 'CancelAllOrdersAfter', kind: 'error', message: 'EAPI:Invalid nonce' });
    await kraken.cancelAllOrdersAfter(60_000);
    await kraken.fetchOpenOrders();
    expect(callsTo(sim, 'CancelAllOrdersAfter')).toHaveLength(2);
    expect(await asyncIdInReaction()).toBe(0);
  });
});
