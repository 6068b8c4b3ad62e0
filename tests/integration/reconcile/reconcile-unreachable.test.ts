// `ctb reconcile` when Kraken stops answering between its open-orders read and its trade history: the
// history is asked once more after 1 s, as the audit does, not backed off for half a minute (1, 2, 4,
// 8, 16 s) as the engine's own reconciliation is; the operator hears at once that Kraken could not be
// reached, where, and what to check. Against a real database; Kraken is an in-memory exchange.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeReconcileCommand } from '../../../commands/reconcile.js';
import { runCommand } from '../../../commands/run-command.js';
import type { OwnedContext } from '../../../src/app/build-context.js';
import { AppError } from '../../../src/errors.js';
import { ExchangeError } from '../../../src/exchange/errors.js';
import { testContext } from '../../support/app-context.js';
import { createPostgresTestDb, type TestDatabase } from '../../support/db.js';
import { TEST_API_KEY, TEST_API_SECRET } from '../../support/kraken-test-keys.js';
import { recordingExchange } from '../../support/recording-exchange.js';

const refused = () => new ExchangeError('retryable', 'network', 'Kraken TradesHistory failed: NetworkError. The connection to Kraken failed: retry with backoff.', {
  cause: new Error('kraken POST http://127.0.0.1:1/0/private/TradesHistory fetch failed: connect ECONNREFUSED 127.0.0.1:1'),
});

let database: TestDatabase;
let ctx: OwnedContext;
let historyCalls = 0;
beforeAll(async () => {
  database = await createPostgresTestDb();
  const kraken = recordingExchange('kraken');
  kraken.fetchMyTrades = async () => {
    historyCalls += 1;
    throw refused();
  };
  ctx = await testContext({
    database,
    env: { KRAKEN_API_KEY: TEST_API_KEY, KRAKEN_API_SECRET: TEST_API_SECRET, KRAKEN_API_URL: 'http://127.0.0.1:1' },
    exchanges: { kraken: () => kraken },
  });
});
afterAll(async () => {
  await ctx?.close();
  await database?.close();
});

describe('ctb reconcile when Kraken refuses the connection', () => {
  it('asks for the trade history once more after 1 s, then says Kraken could not be reached and what to check', async () => {
    const waits: number[] = [];
    const command = makeReconcileCommand({ sleep: async (ms) => void waits.push(ms) });
    const failure = await runCommand(command, ctx, { id: 'cli:test', source: 'cli' }, {}).then(() => null, (err: unknown) => err);
    expect({ historyCalls, waits }).toEqual({ historyCalls: 2, waits: [1000] });
    expect(failure).toBeInstanceOf(AppError);
    expect(failure).toMatchObject({ kind: 'retryable', code: 'kraken_unreachable' });
    expect((failure as AppError).userMessage).toBe('Could not reach Kraken at http://127.0.0.1:1/ (fetch failed: connect ECONNREFUSED 127.0.0.1:1): nothing was compared with Kraken. '
      + 'Check that this host can reach Kraken (KRAKEN_API_URL; DNS, firewall, proxy), then run ctb reconcile again.');
  });
});
