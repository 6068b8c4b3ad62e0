// Our Kraken limiter: counted the way Kraken counts (per call cost, decaying by wall-clock time),
// ordinary calls wait in line for room below the reserve, and a kill's calls never wait.
import { describe, expect, it } from 'vitest';
import { testConfig } from '../../src/config/env.js';
import { createCcxtKraken, loadCcxt } from '../../src/exchange/kraken/ccxt-client.js';
import { callCost, RateCounter } from '../../src/exchange/kraken/rate-limiter.js';
import { urgently } from '../../src/exchange/urgency.js';

const spec = { max: 15, decayPerSecond: 0.5, reserve: 5 };

/** A counter on a clock the test moves; `settle` lets queued waiters run after a move. */
function counterOnClock() {
  let now = 0;
  const counter = new RateCounter(spec, () => now);
  return { counter, advance: (ms: number) => void (now += ms) };
}

/** Which calls may go by the next turn of the event loop (null from take: at once). */
const settled = async (ps: Array<Promise<void> | null>) => {
  const done: boolean[] = ps.map(() => false);
  ps.forEach((p, i) => void Promise.resolve(p).then(() => (done[i] = true)));
  await new Promise((r) => setTimeout(r, 0));
  return done;
};

describe('Kraken rate limiter', () => {
  it('costs calls as Kraken does: history queries 2, other queries 1, placing and cancelling orders 0', () => {
    expect(callCost('private', 'TradesHistory')).toBe(2);
    expect(callCost('private', 'Ledgers')).toBe(2);
    expect(callCost('private', 'OpenOrders')).toBe(1);
    expect(callCost('private', 'BalanceEx')).toBe(1);
    for (const e of ['AddOrder', 'CancelOrder', 'CancelAll', 'CancelAllOrdersAfter']) expect(callCost('private', e)).toBe(0);
    expect(callCost('public', 'OHLC')).toBe(1);
  });

  it('lets ordinary calls through up to the reserve, then makes them wait for the counter to decay by the clock, in order', async () => {
    const { counter } = counterOnClock();
    const first = Array.from({ length: 10 }, () => counter.take(1, false));
    expect(await settled(first)).toEqual(Array(10).fill(true));
    const more = [counter.take(1, false), counter.take(2, false)];
    expect(await settled(more)).toEqual([false, false]);
    expect(counter.queued).toBe(2);
  });

  it('refills by wall-clock time even while nothing waits (ccxt refilled only while a call waited)', () => {
    const { counter, advance } = counterOnClock();
    for (let i = 0; i < 10; i++) void counter.take(1, false);
    expect(counter.level).toBe(10);
    advance(10_000); // idle: 10 s at 0.5 a second
    expect(counter.level).toBe(5);
    advance(60_000);
    expect(counter.level).toBe(0);
  });

  it("lets an urgent call (a kill's) through at once while ordinary calls are queued, and counts it", async () => {
    const { counter } = counterOnClock();
    for (let i = 0; i < 10; i++) void counter.take(1, false);
    const queued = counter.take(1, false);
    // null: the kill's call goes on in the same tick, while the ordinary one waits.
    expect(await urgently(async () => counter.take(1))).toBeNull();
    expect(await urgently(async () => counter.take(1))).toBeNull();
    expect(await settled([queued])).toEqual([false]);
    expect(counter.level).toBe(12);
    expect(counter.queued).toBe(1);
    // Free calls (CancelAll) never wait either, urgent or not.
    expect(counter.take(0, false)).toBeNull();
  });

  it('wakes a queued call once the counter has decayed enough, without anything else happening', async () => {
    const counter = new RateCounter({ max: 3, decayPerSecond: 20, reserve: 1 });
    await counter.take(1, false);
    await counter.take(1, false);
    const started = performance.now();
    await counter.take(1, false); // needs 1/20 s of decay
    expect(performance.now() - started).toBeGreaterThanOrEqual(40);
    expect(performance.now() - started).toBeLessThan(1_000);
  });
});

describe('Kraken nonces', () => {
  it('strictly increase across every client of the process, even within one millisecond', async () => {
    const config = testConfig({ KRAKEN_API_KEY: 'k'.repeat(56), KRAKEN_API_SECRET: Buffer.from('s'.repeat(64)).toString('base64') });
    const a = await createCcxtKraken(config, { armed: false, withKeys: true });
    const b = await createCcxtKraken(config, { armed: false, withKeys: true });
    const seen: number[] = [];
    for (let i = 0; i < 500; i++) seen.push(Number(a.nonce()), Number(b.nonce()));
    for (let i = 1; i < seen.length; i++) expect(seen[i]).toBeGreaterThan(seen[i - 1]!);
  });
});

describe('Kraken request signing', () => {
  it("signs private calls exactly as ccxt's Kraken client would (form and JSON bodies), with node:crypto", async () => {
    const config = testConfig({ KRAKEN_API_KEY: 'k'.repeat(56), KRAKEN_API_SECRET: Buffer.from('s'.repeat(64)).toString('base64'), KRAKEN_API_URL: 'https://kraken.test' });
    const client = await createCcxtKraken(config, { armed: true, withKeys: true });
    const ccxt = await loadCcxt();
    client.nonce = () => 1_767_614_400_123;
    const cases: Array<[string, Record<string, unknown>]> = [
      ['CancelAll', {}],
      ['AddOrder', { pair: 'XXBTZUSD', type: 'buy', ordertype: 'limit', volume: '0.01', price: '50000.0', cl_ord_id: 'c-1' }],
      ['AddOrderBatch', { pair: 'XXBTZUSD', orders: [{ ordertype: 'limit', type: 'buy', volume: '1', price: '1' }] }],
      ['TradesHistory', { ofs: 50, start: 1_767_000_000 }],
    ];
    for (const [path, params] of cases) {
      const ours = client.sign(path, 'private', 'POST', params);
      const theirs = ccxt.kraken.prototype.sign.call(client, path, 'private', 'POST', params);
      expect(ours).toEqual(theirs);
    }
    expect(client.sign('Ticker', 'public', 'GET', { pair: 'XXBTZUSD' })).toEqual(ccxt.kraken.prototype.sign.call(client, 'Ticker', 'public', 'GET', { pair: 'XXBTZUSD' }));
  });
});
