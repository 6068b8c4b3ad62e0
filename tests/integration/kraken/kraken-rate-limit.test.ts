// The Kraken adapter as shipped (KRAKEN_RATE_LIMIT on): with ordinary calls queued behind Kraken's
// counter, a kill's CancelAll and OpenOrders reach Kraken at once; the queued calls keep waiting.
import { executionAsyncId } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { testConfig } from '../../../src/config/env.js';
import { createKrakenExchange } from '../../../src/exchange/kraken/create.js';
import { privateCounterFor } from '../../../src/exchange/kraken/rate-limiter.js';
import { isUrgent, urgently } from '../../../src/exchange/urgency.js';
import { silentLogger } from '../../../src/logger.js';
import { startFakeKraken, type FakeKraken } from '../../support/fake-kraken.js';

let kraken: FakeKraken;
afterAll(async () => {
  await kraken?.close();
});

describe('Kraken rate limiting as shipped', () => {
  it("lets a kill's cancel and confirmation through at once while ordinary calls are queued", async () => {
    kraken = await startFakeKraken({});
    kraken.addOrder({ txid: 'OPEN-1', pair: 'XBTUSD', type: 'buy', ordertype: 'limit', price: '40000', vol: '0.01', vol_exec: '0', status: 'open', opentm: 1 });
    // A key of its own: the counter is per key and per process.
    const key = randomBytes(28).toString('hex');
    const config = testConfig({ KRAKEN_API_KEY: key, KRAKEN_API_SECRET: randomBytes(64).toString('base64'), KRAKEN_API_URL: kraken.url });
    expect(config.KRAKEN_RATE_LIMIT).toBe(true);
    const exchange = createKrakenExchange(config, { logger: silentLogger(), armed: false });
    await exchange.warm?.();

    // Starter tier: 10 ordinary calls fill the counter up to its reserve; the next 5 must wait ~3 s each.
    const ordinary = Array.from({ length: 15 }, () => exchange.fetchBalances().catch(() => undefined));
    for (let i = 0; i < 200 && kraken.callsTo('BalanceEx').length < 10; i++) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 200));
    expect(kraken.callsTo('BalanceEx')).toHaveLength(10);
    expect(privateCounterFor(key, 'starter').queued).toBe(5);

    const started = Date.now();
    const cancelled = await urgently(() => exchange.cancelAllOrders());
    const open = await urgently(() => exchange.fetchOpenOrders());
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(cancelled).toEqual({ canceled: 1 });
    expect(open).toEqual([]);
    // The queued calls are still queued: the kill went ahead of them.
    expect(kraken.callsTo('BalanceEx')).toHaveLength(10);
    expect(privateCounterFor(key, 'starter').queued).toBe(5);
    void Promise.all(ordinary);
  }, 30_000);

  // The lane is an AsyncLocalStorage: on Node 20, while one is in use every promise in the process
  // pays for promise hooks (about twice the cost). With them off a promise reaction has no async id (0).
  it('is in force inside urgent work, overlapping work included, and switched off once all of it has settled', async () => {
    const asyncIdInReaction = () => Promise.resolve().then(() => executionAsyncId());
    expect(await asyncIdInReaction()).toBe(0);
    let release!: () => void;
    const long = urgently(async () => {
      await new Promise<void>((resolve) => (release = resolve));
      return isUrgent();
    });
    expect(await urgently(async () => isUrgent())).toBe(true);
    // The short one settled; the long one is still urgent.
    release();
    expect(await long).toBe(true);
    expect(isUrgent()).toBe(false);
    expect(await asyncIdInReaction()).toBe(0);
  });
});
