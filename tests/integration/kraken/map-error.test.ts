import nock from 'nock';
import { afterEach, describe, expect, it } from 'vitest';
import { testConfig } from '../../../src/config/env.js';
import { ExchangeError } from '../../../src/exchange/errors.js';
import { KrakenExchange } from '../../../src/exchange/kraken/kraken-exchange.js';
import { krakenErrorCode, mapKrakenError } from '../../../src/exchange/kraken/map-error.js';
import { silentLogger } from '../../../src/logger.js';
import * as R from '../../support/kraken-recordings.js';
import { TEST_API_KEY, TEST_API_SECRET } from '../../support/kraken-test-keys.js';

const config = testConfig({ KRAKEN_API_KEY: TEST_API_KEY, KRAKEN_API_SECRET: TEST_API_SECRET, KRAKEN_API_URL: R.BASE });
const kraken = (timeoutMs?: number) =>
  new KrakenExchange(config, { logger: silentLogger(), armed: true, enableRateLimit: false, ...(timeoutMs ? { timeoutMs } : {}) });

afterEach(() => {
  nock.cleanAll();
});

async function errorFrom(reply: (scope: nock.Interceptor) => nock.Scope, timeoutMs?: number): Promise<ExchangeError> {
  reply(nock(R.BASE).post('/0/private/BalanceEx'));
  const err = await kraken(timeoutMs).fetchBalances().catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ExchangeError);
  return err as ExchangeError;
}

describe('Kraken errors, mapped once into the project kinds', () => {
  // fetchBalances loads markets first; answer those for every case.
  const withMarkets = () => nock(R.BASE).get('/0/public/Assets').reply(200, R.assets).get('/0/public/AssetPairs').reply(200, R.assetPairs);

  it.each([
    ['EAPI:Invalid nonce', 'retryable', 'invalid_nonce'],
    ['EAPI:Rate limit exceeded', 'retryable', 'rate_limited'],
    ['EGeneral:Too many requests', 'retryable', 'rate_limited'],
    ['EService:Unavailable', 'retryable', 'exchange_unavailable'],
    ['EService:Market in cancel_only mode', 'retryable', 'exchange_maintenance'],
    ['EGeneral:Permission denied', 'auth', 'permission_denied'],
    ['EAPI:Invalid key', 'auth', 'invalid_key'],
    ['ETrade:User Locked', 'halt', 'account_suspended'],
    ['EOrder:Insufficient funds', 'rejected', 'insufficient_funds'],
    ['EOrder:Unknown order', 'rejected', 'invalid_order'],
    ['EGeneral:Invalid arguments', 'rejected', 'bad_request'],
    ['EGeneral:Something new', 'rejected', 'exchange_error'],
  ])('maps %s to %s (%s) and keeps Kraken’s code', async (krakenCode, kind, code) => {
    withMarkets();
    // A refused nonce is sent again (twice) before it is reported: Kraken answers the same each time.
    const err = await errorFrom((s) => s.times(krakenCode === 'EAPI:Invalid nonce' ? 3 : 1).reply(200, R.krakenError(krakenCode)));
    expect(err).toMatchObject({ kind, code, exchangeCode: krakenCode });
    // A refused nonce, three times with fresh ones, is reported as Kraken having taken a larger one for the key (call-retry.ts).
    expect(err.message).toBe(krakenCode === 'EAPI:Invalid nonce'
      ? 'Kraken BalanceEx failed: EAPI:Invalid nonce, 3 times in a row, each with a fresh nonce: Kraken has taken a larger nonce for this API key than this machine makes now (nonces here are this host\'s clock in milliseconds).'
      : `Kraken BalanceEx failed: ${krakenCode}.`);
  });

  it('tells the operator a nonce error may mean the key is shared with another process', async () => {
    withMarkets();
    const err = await errorFrom((s) => s.times(3).reply(200, R.krakenError('EAPI:Invalid nonce')));
    expect(err.hint).toMatch(/clock is behind.*shared with another process or host \(the bot, its web or worker, an operator's ctb, a second bot, another machine whose clock runs ahead\).*create a new API key/);
  });

  it('maps HTTP 503 and 520 to retryable unavailability', async () => {
    withMarkets();
    expect(await errorFrom((s) => s.reply(503, 'Service Unavailable'))).toMatchObject({ kind: 'retryable', code: 'exchange_unavailable' });
    withMarkets();
    expect(await errorFrom((s) => s.reply(520, 'Origin error'))).toMatchObject({ kind: 'retryable', code: 'exchange_unavailable' });
  });

  it('maps a slow reply to a retryable timeout', async () => {
    withMarkets();
    expect(await errorFrom((s) => s.delay(500).reply(200, R.balanceEx), 100)).toMatchObject({ kind: 'retryable', code: 'timeout' });
  });

  it('maps a reset connection to a retryable network error', async () => {
    withMarkets();
    expect(await errorFrom((s) => s.replyWithError({ code: 'ECONNRESET', message: 'socket hang up' }))).toMatchObject({ kind: 'retryable', code: 'network' });
  });

  it('finds Kraken’s own code inside ccxt’s message', () => {
    expect(krakenErrorCode('kraken {"error":["EAPI:Invalid nonce"]}')).toBe('EAPI:Invalid nonce');
    expect(krakenErrorCode('kraken 503 Service Unavailable')).toBeUndefined();
  });

  it('maps ccxt’s BadResponse and NullResponse to an unknown outcome for AddOrder and a retryable read elsewhere', async () => {
    const ccxt = await import('ccxt');
    for (const err of [new ccxt.BadResponse('kraken could not parse'), new ccxt.NullResponse('kraken returned empty content')]) {
      expect(mapKrakenError(err, 'AddOrder')).toMatchObject({ kind: 'retryable', code: 'outcome_unknown' });
      expect(mapKrakenError(err, 'QueryOrders')).toMatchObject({ kind: 'retryable', code: 'unreadable_response' });
    }
  });

  it('maps a crash inside the client during AddOrder to an unknown outcome, not a refusal', () => {
    expect(mapKrakenError(new TypeError("Cannot read properties of null (reading 'length')"), 'AddOrder')).toMatchObject({ kind: 'retryable', code: 'outcome_unknown' });
    expect(mapKrakenError(new TypeError('boom'), 'BalanceEx')).toMatchObject({ kind: 'rejected', code: 'unexpected' });
  });
});
