// GetApiKeyInfo permission names the bot does not know never read as "cannot withdraw": the adapter
// asks Kraken's withdraw-info probe instead, and the go-live key check fails naming the names.
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Actor } from '../../../src/app/context.js';
import { ManualClock } from '../../../src/clock.js';
import { testConfig } from '../../../src/config/env.js';
import { KrakenExchange } from '../../../src/exchange/kraken/kraken-exchange.js';
import { keyRightsFromPermissions } from '../../../src/exchange/kraken/parse.js';
import { silentLogger } from '../../../src/logger.js';
import { keyRightsCheck } from '../../../src/services/audit/checks/key-rights.js';
import { runAudit } from '../../../src/services/audit/run-audit.js';
import { testContext } from '../../support/app-context.js';
import { usePostgresTestDb } from '../../support/db.js';
import { startFakeKraken, TRADE_KEY_PERMISSIONS, type FakeKraken } from '../../support/fake-kraken.js';
import * as R from '../../support/kraken-recordings.js';
import { TEST_API_KEY, TEST_API_SECRET } from '../../support/kraken-test-keys.js';

const config = testConfig({ KRAKEN_API_KEY: TEST_API_KEY, KRAKEN_API_SECRET: TEST_API_SECRET, KRAKEN_API_URL: R.BASE });
const kraken = () => new KrakenExchange(config, { logger: silentLogger(), armed: false, enableRateLimit: false, clock: new ManualClock() });
const TRADE_KEY = ['query-funds', 'query-open-trades', 'query-closed-trades', 'modify-trades', 'close-trades'];

describe('key rights with permission names the bot does not know', () => {
  afterEach(() => {
    const pending = nock.pendingMocks();
    nock.cleanAll();
    expect(pending, 'every recorded response was used').toEqual([]);
  });

  it('reads unknown names as "may withdraw" until probed, never as "cannot withdraw"', () => {
    expect(keyRightsFromPermissions([...TRADE_KEY, 'transfer-funds'])).toMatchObject({ canWithdraw: true, unrecognisedPermissions: ['transfer-funds'] });
    expect(keyRightsFromPermissions(TRADE_KEY)).toEqual({ canQuery: true, canTrade: true, canCancel: true, canWithdraw: false, source: 'key_info' });
  });

  it('asks the withdraw probe when GetApiKeyInfo names an unknown permission, and keeps the names', async () => {
    nock(R.BASE)
      .post('/0/private/GetApiKeyInfo').reply(200, R.apiKeyInfo([...TRADE_KEY, 'transfer-funds', 'earn-allocate']))
      .post('/0/private/WithdrawMethods').reply(200, R.krakenError('EGeneral:Permission denied'));
    expect(await kraken().fetchKeyRights()).toEqual({
      canQuery: true, canTrade: true, canCancel: true, canWithdraw: false, source: 'key_info', withdrawSource: 'withdraw_probe',
      unrecognisedPermissions: ['earn-allocate', 'transfer-funds'],
    });
  });

  it('reads a probe that answers as a key that can withdraw', async () => {
    nock(R.BASE)
      .post('/0/private/GetApiKeyInfo').reply(200, R.apiKeyInfo([...TRADE_KEY, 'withdraw-crypto']))
      .post('/0/private/WithdrawMethods').reply(200, { error: [], result: [{ asset: 'XXBT', method: 'Bitcoin', network: 'Bitcoin', minimum: '0.0004' }] });
    expect(await kraken().fetchKeyRights()).toMatchObject({ canWithdraw: true, unrecognisedPermissions: ['withdraw-crypto'] });
  });

  it('fails naming the unknown names when the probe cannot answer', async () => {
    nock(R.BASE)
      .post('/0/private/GetApiKeyInfo').reply(200, R.apiKeyInfo([...TRADE_KEY, 'transfer-funds']))
      .post('/0/private/WithdrawMethods').reply(503, 'Service Unavailable');
    await expect(kraken().fetchKeyRights()).rejects.toMatchObject({
      code: 'key_rights_unknown', message: expect.stringContaining('does not know (transfer-funds)'),
    });
  });
});

describe('the go-live key check against a Kraken whose key has an unknown permission', () => {
  const actor: Actor = { id: 'cli:test', source: 'cli' };
  const database = usePostgresTestDb({ truncate: [] });
  let fake: FakeKraken;
  beforeAll(async () => {
    nock.enableNetConnect('127.0.0.1');
    fake = await startFakeKraken({ permissions: [...TRADE_KEY_PERMISSIONS, 'transfer-funds'] });
  });
  afterAll(() => fake.close());

  const check = async () => {
    const ctx = await testContext({
      database: database(),
      env: { KRAKEN_API_KEY: TEST_API_KEY, KRAKEN_API_SECRET: TEST_API_SECRET, KRAKEN_API_URL: fake.url, KRAKEN_RATE_LIMIT: 'false', LOG_DIR: join(tmpdir(), 'ctb-audit-test-logs') },
    });
    return (await runAudit(ctx, { actor, dryRun: true, cwd: '.', checks: [keyRightsCheck], only: [keyRightsCheck.id] })).results[0]!;
  };

  it('fails the check naming the unknown permission, after the withdraw probe was denied', async () => {
    const result = await check();
    expect(result).toMatchObject({ status: 'fail', value: 'key has permissions this bot does not know: transfer-funds (withdraw probe: denied)' });
    expect(fake.callsTo('WithdrawMethods')).toHaveLength(1);
  });
});
