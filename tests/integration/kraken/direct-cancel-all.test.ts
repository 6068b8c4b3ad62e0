// The kill's first CancelAll from a cold shell is sent without ccxt (src/exchange/kraken/
// direct-cancel-all.ts): against the local Kraken, which checks API-Key, API-Sign and nonces as
// Kraken does, it cancels every open order and returns Kraken's count; a refused or unreadable
// answer throws, and the kill's first cancel then goes again through the full client.
import { afterEach, describe, expect, it } from 'vitest';
import { testConfig } from '../../../src/config/env.js';
import { createKrakenExchange } from '../../../src/exchange/kraken/create.js';
import { cancelAllDirect, CancelAllRefused } from '../../../src/exchange/kraken/direct-cancel-all.js';
import { withEarlyCancel } from '../../../src/services/kill/early-cancel.js';
import { silentLogger } from '../../../src/logger.js';
import { startFakeKraken, type FakeKraken } from '../../support/fake-kraken.js';
import { TEST_API_KEY, TEST_API_SECRET } from '../../support/kraken-test-keys.js';

let kraken: FakeKraken | undefined;
afterEach(async () => {
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
});
