import { describe, expect, it } from 'vitest';
import { krakenSignature } from '../../../src/simulator/auth.js';
import { TEST_API_KEY, TEST_API_SECRET } from '../../support/kraken-test-keys.js';
import { adapterFor, nextNonce, privateCall, startSimulator } from '../../support/simulator.js';

describe('the Kraken simulator checks private calls like Kraken', () => {
  it('serves a correctly signed call through the real adapter (ccxt signs it)', async () => {
    const sim = await startSimulator({ balances: { ZUSD: '1234.5000', XXBT: '0.5' } });
    const balances = await adapterFor(sim, { armed: false }).fetchBalances();
    expect(balances).toEqual(expect.arrayContaining([
      { asset: 'USD', total: '1234.5', used: '0', free: '1234.5' },
      { asset: 'BTC', total: '0.5', used: '0', free: '0.5' },
    ]));
    expect(sim.calls.map((c) => c.endpoint)).toEqual(['Assets', 'AssetPairs', 'BalanceEx']);
  });

  it('refuses an unknown key with EAPI:Invalid key', async () => {
    const sim = await startSimulator();
    const { body } = await privateCall(sim, 'BalanceEx', {}, { key: 'not-the-key' });
    expect(body).toEqual({ error: ['EAPI:Invalid key'] });
  });

  it('refuses a signature made with another secret, through the adapter too', async () => {
    const sim = await startSimulator();
    const other = Buffer.from('another secret of 32 bytes......').toString('base64');
    expect((await privateCall(sim, 'BalanceEx', {}, { secret: other })).body).toEqual({ error: ['EAPI:Invalid signature'] });
    await expect(adapterFor(sim, { secret: other }).fetchBalances()).rejects.toMatchObject({ exchangeCode: 'EAPI:Invalid signature' });
  });

  it('refuses a signature over a different body (the body is signed, not only the nonce)', async () => {
    const sim = await startSimulator();
    const path = '/0/private/BalanceEx';
    const nonce = nextNonce();
    const sign = krakenSignature(path, nonce, `nonce=${nonce}`, TEST_API_SECRET);
    const res = await fetch(`${sim.url}${path}`, { method: 'POST', headers: { 'API-Key': TEST_API_KEY, 'API-Sign': sign }, body: `nonce=${nonce}&asset=XXBT` });
    expect(await res.json()).toEqual({ error: ['EAPI:Invalid signature'] });
  });

  it('refuses a nonce that does not increase for the key, and accepts the next larger one', async () => {
    const sim = await startSimulator();
    expect((await privateCall(sim, 'BalanceEx', {}, { nonce: '1000' })).body.error).toEqual([]);
    expect((await privateCall(sim, 'BalanceEx', {}, { nonce: '1000' })).body).toEqual({ error: ['EAPI:Invalid nonce'] });
    expect((await privateCall(sim, 'BalanceEx', {}, { nonce: '999' })).body).toEqual({ error: ['EAPI:Invalid nonce'] });
    expect((await privateCall(sim, 'BalanceEx', {}, { nonce: '1001' })).body.error).toEqual([]);
    expect((await privateCall(sim, 'BalanceEx', {}, { nonce: 'abc' })).body).toEqual({ error: ['EAPI:Invalid nonce'] });
  });

  it('answers WithdrawMethods only to a key that can withdraw', async () => {
    const sim = await startSimulator();
    expect((await privateCall(sim, 'WithdrawMethods')).body).toEqual({ error: ['EGeneral:Permission denied'] });
    expect(await adapterFor(sim).fetchKeyRights()).toMatchObject({ canWithdraw: false, canTrade: true, source: 'key_info' });
    sim.state.permissions = ['query-funds', 'withdraw-funds'];
    expect((await privateCall(sim, 'WithdrawMethods')).body.error).toEqual([]);
  });

  it('hands out a WebSockets token in Kraken\'s shape', async () => {
    const sim = await startSimulator();
    const { body } = await privateCall(sim, 'GetWebSocketsToken');
    expect(body.result).toEqual({ token: expect.stringMatching(/^[A-Za-z0-9+/]{40,}$/), expires: 900 });
  });
});
