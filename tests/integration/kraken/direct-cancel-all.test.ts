// The kill's first CancelAll from a cold shell is sent without ccxt (src/exchange/kraken/
// direct-cancel-all.ts): against the local Kraken, which checks API-Key, API-Sign and nonces as
// Kraken does, it cancels every open order and returns Kraken's count; a refused or unreadable
// answer throws, and the kill's first cancel then goes again through the full client.
import { afterEach, describe, expect, it } from 'vitest';
import { testConfig } from '../../../src/config/env.js';
import { createKrakenExchange } from '../../../src/exchange/kraken/create.js';
import { cancelAllDirect, CancelAllRefused } from '../../../src/exchange/kraken/direct-cancel-all.js';
import { krakenWithEarlyCancel, withEarlyCancel } from '../../../src/services/kill/early-cancel.js';
import { silentLogger, type Logger } from '../../../src/logger.js';
import { startFakeKraken, type FakeKraken } from '../../support/fake-kraken.js';
import { TEST_API_KEY, TEST_API_SECRET } from '../../support/kraken-test-keys.js';

let kraken: FakeKraken | undefined;
let releases: Array<() => void> = [];
afterEach(async () => {
  releases.forEach((release) => release());
  releases = [];
  await kraken?.close();
  kraken = undefined;
});

async function withOpenOrders(): Promise<FakeKraken> {
  kraken = await startFakeKraken({ apiKey: TEST_API_KEY, secret: TEST_API_SECRET });
  for (const txid of ['OPEN-1', 'OPEN-2']) {
    kraken.addOrder({ txid, pair: 'XBTUSD', type: 'buy', ordertype: 'limit', price: '40000', vol: '0.01', vol_exec: '0', status: 'open', opentm: 1 });
  }
  return kraken;
}
const open = (k: FakeKraken) => [...k.state.orders.values()].filter((o) => o.status === 'open' || o.status === 'pending');

describe('CancelAll sent before ccxt is loaded', () => {
  it("is signed as Kraken checks it, cancels every open order and returns Kraken's count", async () => {
    const k = await withOpenOrders();
    const config = testConfig({ KRAKEN_API_KEY: TEST_API_KEY, KRAKEN_API_SECRET: TEST_API_SECRET, KRAKEN_API_URL: k.url });
    expect(await cancelAllDirect(config)).toEqual({ canceled: 2 });
    expect(k.callsTo('CancelAll')).toHaveLength(1);
    expect(open(k)).toEqual([]);
  });

  it('throws on an answer Kraken refused (a wrong secret), naming the error', async () => {
    const k = await withOpenOrders();
    const config = testConfig({ KRAKEN_API_KEY: TEST_API_KEY, KRAKEN_API_SECRET: Buffer.from('not the secret').toString('base64'), KRAKEN_API_URL: k.url });
    await expect(cancelAllDirect(config)).rejects.toThrow(/Kraken CancelAll: HTTP \d+, EAPI:Invalid key|Kraken CancelAll: .*EAPI/);
    // Kraken's own refusal: nothing was cancelled, so a kill sending it again counts what that one says.
    await expect(cancelAllDirect(config)).rejects.toBeInstanceOf(CancelAllRefused);
    expect(open(k)).toHaveLength(2);
  });

  it("when the early call failed, the kill's first cancel-all goes again through the full client and reaches Kraken", async () => {
    const k = await withOpenOrders();
    const config = testConfig({ KRAKEN_API_KEY: TEST_API_KEY, KRAKEN_API_SECRET: TEST_API_SECRET, KRAKEN_API_URL: k.url, KRAKEN_RATE_LIMIT: 'on' });
    const exchange = withEarlyCancel(createKrakenExchange(config, { logger: silentLogger(), armed: false }), () => Promise.reject(new Error('answer lost')));
    // The early call's answer was lost (it may have cancelled): the count is the second one's alone, and says so.
    expect(await exchange.cancelAllOrders()).toEqual({ canceled: 2, earlierAnswerLost: true });
    expect(k.callsTo('CancelAll')).toHaveLength(1);
    expect(open(k)).toEqual([]);
  });

  it("when the early call succeeded, the kill's first cancel-all is that call (Kraken's count, no second CancelAll)", async () => {
    const k = await withOpenOrders();
    const config = testConfig({ KRAKEN_API_KEY: TEST_API_KEY, KRAKEN_API_SECRET: TEST_API_SECRET, KRAKEN_API_URL: k.url });
    const exchange = withEarlyCancel(createKrakenExchange(config, { logger: silentLogger(), armed: false }), () => cancelAllDirect(config));
    expect(await exchange.cancelAllOrders()).toEqual({ canceled: 2 });
    expect(k.callsTo('CancelAll')).toHaveLength(1);
    expect(await exchange.cancelAllOrders()).toEqual({ canceled: 0 });
    expect(k.callsTo('CancelAll')).toHaveLength(2);
  });

  it('once its calls are abandoned (a kill that has answered), the early CancelAll and a call Kraken holds end at once, and none is sent after', async () => {
    // Told as each request reaches the local Kraken: the calls are on the wire before they are abandoned.
    const arrived = new Map<string, () => void>();
    const requests: string[] = [];
    const reached = (endpoint: string) => new Promise<void>((resolve) => arrived.set(endpoint, resolve));
    const both = Promise.all([reached('CancelAll'), reached('OpenOrders')]);
    kraken = await startFakeKraken({
      apiKey: TEST_API_KEY, secret: TEST_API_SECRET,
      onRequestStart: (path) => {
        const endpoint = path.split('/').at(-1)!;
        requests.push(endpoint);
        arrived.get(endpoint)?.();
      },
    });
    releases = [kraken.hold('CancelAll'), kraken.hold('OpenOrders')];
    // A call's own timeout far longer than the test's: only the abandon can end these calls in time.
    const config = testConfig({ KRAKEN_API_KEY: TEST_API_KEY, KRAKEN_API_SECRET: TEST_API_SECRET, KRAKEN_API_URL: kraken.url, KRAKEN_REQUEST_TIMEOUT: '2m' });
    const abandon = new AbortController();
    const exchange = krakenWithEarlyCancel(config, silentLogger(), abandon.signal)!;
    const cancel = exchange.cancelAllOrders();
    const read = exchange.fetchOpenOrders();
    await both;

    abandon.abort();
    await expect(read).rejects.toThrow();
    // The early CancelAll given up, its answer lost: the same cancel is not sent again once abandoned.
    await expect(cancel).rejects.toThrow(/CancelAll not sent: this process has given up its Kraken calls/);
    await expect(exchange.fetchOpenOrders()).rejects.toThrow(/OpenOrders not sent/);
    expect(requests.filter((e) => e === 'CancelAll')).toHaveLength(1);
    expect(requests.filter((e) => e === 'OpenOrders')).toHaveLength(1);
  });

  it('a market load given up with the calls (a kill that has answered) is not logged as a failure of Kraken', async () => {
    let reachedAssetPairs!: () => void;
    const reached = new Promise<void>((resolve) => (reachedAssetPairs = resolve));
    kraken = await startFakeKraken({ apiKey: TEST_API_KEY, secret: TEST_API_SECRET, onRequestStart: (path) => path.endsWith('/AssetPairs') && reachedAssetPairs() });
    releases = [kraken.hold('AssetPairs')];
    const lines: Array<{ level: string; msg: string }> = [];
    let said!: () => void;
    const saidSomething = new Promise<void>((resolve) => (said = resolve));
    const record = (level: string) => (_obj: unknown, msg: string) => {
      lines.push({ level, msg });
      if (/markets/.test(msg)) said();
    };
    const logger = { warn: record('warn'), debug: record('debug'), info: record('info'), error: record('error'), child: () => logger } as unknown as Logger;
    const config = testConfig({ KRAKEN_API_KEY: TEST_API_KEY, KRAKEN_API_SECRET: TEST_API_SECRET, KRAKEN_API_URL: kraken.url, KRAKEN_REQUEST_TIMEOUT: '2m' });
    const abandon = new AbortController();
    const exchange = krakenWithEarlyCancel(config, logger, abandon.signal)!;
    await exchange.warm!();
    await reached;

    abandon.abort();
    await saidSomething;
    expect(lines.filter((l) => /markets/.test(l.msg))).toEqual([{ level: 'debug', msg: 'Kraken markets not loaded: this process has given up its Kraken calls' }]);
    await exchange.cancelAllOrders().catch(() => {});
  });
});
