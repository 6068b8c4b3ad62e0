// The Kraken adapter as shipped (KRAKEN_RATE_LIMIT on): with ordinary calls queued behind Kraken's
// counter, a kill's CancelAll and OpenOrders reach Kraken ahead of them; the queued calls keep
// waiting. The counter decays on a clock of the test's, so the order is the verdict, not the wall.
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { testConfig } from '../../../src/config/env.js';
import { createKrakenExchange } from '../../../src/exchange/kraken/create.js';
import { privateCounterFor } from '../../../src/exchange/kraken/rate-limiter.js';
import { urgently } from '../../../src/exchange/urgency.js';
import { silentLogger } from '../../../src/logger.js';
import { startFakeKraken, type FakeKraken } from '../../support/fake-kraken.js';

let kraken: FakeKraken;
afterAll(async () => {
  await kraken?.close();
});

/** Waits, a turn of the timers at a time, until `done()`: the test's timeout bounds the wait. */
async function until(done: () => boolean): Promise<void> {
  while (!done()) await new Promise((r) => setTimeout(r, 10));
}

describe('Kraken rate limiting as shipped', () => {
  it("lets a kill's cancel and confirmation through at once while ordinary calls are queued", async () => {
    // A key of its own: the counter is per key and per process. Its clock is the test's and stands
    // still until the test moves it, so no queued call can be let through while the kill's calls go.
    const key = randomBytes(28).toString('hex');
    let now = 0;
    const counter = privateCounterFor(key, 'starter', () => now);
    // How many ordinary calls were still queued when each of the kill's calls reached Kraken.
    const queuedWhenKillCallArrived = new Map<string, number>();
    kraken = await startFakeKraken({
      onRequestStart: (path) => {
        const endpoint = /\/0\/private\/(\w+)/.exec(path)?.[1];
        if ((endpoint === 'CancelAll' || endpoint === 'OpenOrders') && !queuedWhenKillCallArrived.has(endpoint)) queuedWhenKillCallArrived.set(endpoint, counter.queued);
      },
    });
    kraken.addOrder({ txid: 'OPEN-1', pair: 'XBTUSD', type: 'buy', ordertype: 'limit', price: '40000', vol: '0.01', vol_exec: '0', status: 'open', opentm: 1 });
    const config = testConfig({ KRAKEN_API_KEY: key, KRAKEN_API_SECRET: randomBytes(64).toString('base64'), KRAKEN_API_URL: kraken.url });
    expect(config.KRAKEN_RATE_LIMIT).toBe(true);
    const exchange = createKrakenExchange(config, { logger: silentLogger(), armed: false });
    await exchange.warm?.();

    // Starter tier: 10 ordinary calls fill the counter up to its reserve; the next 5 wait for it to decay.
    const ordinary = Array.from({ length: 15 }, () => exchange.fetchBalances().catch(() => undefined));
    await until(() => kraken.callsTo('BalanceEx').length === 10 && counter.queued === 5);

    const cancelled = await urgently(() => exchange.cancelAllOrders());
    // Either the confirmation reaches Kraken, or it joins the queue (and would wait for the clock).
    const opening = urgently(() => exchange.fetchOpenOrders());
    await until(() => queuedWhenKillCallArrived.has('OpenOrders') || counter.queued > 5);
    expect(counter.queued).toBe(5);
    expect(Object.fromEntries(queuedWhenKillCallArrived)).toEqual({ CancelAll: 5, OpenOrders: 5 });
    expect(cancelled).toEqual({ canceled: 1 });
    expect(await opening).toEqual([]);
    expect(kraken.callsTo('BalanceEx')).toHaveLength(10);

    // Once the counter has decayed (on its clock), the queued calls go, after the kill's.
    now += 60_000;
    const answered = await Promise.all(ordinary);
    expect(counter.queued).toBe(0);
    expect(answered.filter((balances) => balances === undefined)).toHaveLength(0);
    const privateCalls = kraken.calls.filter((c) => c.api === 'private').map((c) => c.endpoint);
    expect(privateCalls.slice(0, 12)).toEqual([...Array(10).fill('BalanceEx'), 'CancelAll', 'OpenOrders']);
    // The five queued, sent together once the counter has room: two signed in the same millisecond may
    // reach Kraken out of their nonces' order, and Kraken refuses the later-arriving lower nonce; the
    // adapter signs it again and resends it (call-retry.ts), so Kraken may see a sixth (2 runs in 5 here).
    const queued = privateCalls.slice(12);
    expect(queued.filter((e) => e !== 'BalanceEx')).toEqual([]);
    expect(queued.length).toBeGreaterThanOrEqual(5);
  }, 60_000);
});
