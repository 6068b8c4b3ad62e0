// An audit against a Kraken that never answers says so within about one KRAKEN_REQUEST_TIMEOUT: the
// first call that gets no answer is the last one the run waits for; every later Kraken check says
// so at once instead of waiting (and the reconciliation retrying) again. A Kraken that answered once
// in the run is not written off for one later timeout.
import { createServer, type Server, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actor } from '../../../src/app/context.js';
import { ExchangeError } from '../../../src/exchange/errors.js';
import { keyRightsCheck } from '../../../src/services/audit/checks/key-rights.js';
import { reconciliationCheck } from '../../../src/services/audit/checks/reconciliation.js';
import { killSwitchReadyCheck } from '../../../src/services/audit/checks/risk.js';
import { tradingPairsCheck } from '../../../src/services/audit/checks/trading-pairs.js';
import { KrakenNotAskedError, KrakenReach } from '../../../src/services/audit/sources/kraken-reach.js';
import { runAudit } from '../../../src/services/audit/run-audit.js';
import { usePostgresTestDb } from '../../support/db.js';
import { testContext } from '../../support/app-context.js';
import { TEST_API_KEY, TEST_API_SECRET } from '../../support/kraken-test-keys.js';

const actor: Actor = { id: 'cli:test', source: 'cli' };
const database = usePostgresTestDb();

/** A port that accepts connections and never answers on them. */
let silent: Server;
let connections = 0;
const sockets = new Set<Socket>();
beforeAll(async () => {
  silent = createServer((s) => {
    connections += 1;
    sockets.add(s);
    s.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
});
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((resolve) => silent.close(resolve));
});

describe('the audit against a Kraken that never answers', () => {
  it('waits for one timeout, then says at once for every other Kraken check that Kraken did not answer', async () => {
    const port = (silent.address() as { port: number }).port;
    const ctx = await testContext({
      database: database(),
      env: { KRAKEN_API_KEY: TEST_API_KEY, KRAKEN_API_SECRET: TEST_API_SECRET, KRAKEN_API_URL: `http://127.0.0.1:${port}`, KRAKEN_REQUEST_TIMEOUT: '1s', KRAKEN_RATE_LIMIT: 'false', LOG_DIR: '/tmp/ctb-audit-test-logs' },
    });
    const started = performance.now();
    const report = await runAudit(ctx, { actor, dryRun: true, cwd: '.', checks: [keyRightsCheck, tradingPairsCheck, killSwitchReadyCheck, reconciliationCheck] });
    const ms = performance.now() - started;
    const value = (id: string) => report.results.find((r) => r.id === id)!.value;
    expect(value('exchange.key_rights')).toBe('Kraken did not answer within 1 s (KRAKEN_REQUEST_TIMEOUT)');
    for (const id of ['exchange.trading_pairs', 'reconciliation.ledger']) {
      expect(value(id)).toBe('Kraken did not answer within 1 s (KRAKEN_REQUEST_TIMEOUT) (earlier in this audit: not asked again)');
    }
    expect(value('risk.kill_switch_ready')).toMatch(/^Kraken did not answer within 1 s/);
    for (const r of report.results) expect(r.fix).toMatch(/can reach Kraken/);
    // One timeout (the key rights' call), not one per check plus the reconciliation's retries and
    // backoff (~40 s before): the bound leaves a loaded machine room, not that.
    expect(ms, `the audit took ${Math.round(ms)} ms`).toBeLessThan(15_000);
    expect(connections, 'connections Kraken was asked on').toBeLessThanOrEqual(2);
    await ctx.close();
  }, 60_000);

  it('does not write Kraken off for a call without an answer once Kraken answered in the run', async () => {
    const reach = new KrakenReach();
    const timeout = () => new ExchangeError('retryable', 'timeout', 'kraken POST https://api.kraken.com/0/private/TradesHistory request timed out (10000 ms)', {
      cause: new Error('kraken POST https://api.kraken.com/0/private/TradesHistory request timed out (10000 ms)'),
    });
    expect(await reach.call(async () => 'answered')).toBe('answered');
    await expect(reach.call(() => Promise.reject(timeout()))).rejects.toMatchObject({ code: 'timeout', kind: 'retryable' });
    expect(await reach.call(async () => 'asked again')).toBe('asked again');

    const fresh = new KrakenReach();
    await expect(fresh.call(() => Promise.reject(timeout()))).rejects.toMatchObject({ kind: 'retryable' });
    const notAsked = await fresh.call(async () => 'never asked').catch((err: unknown) => err);
    expect(notAsked).toBeInstanceOf(KrakenNotAskedError);
    expect(notAsked).toMatchObject({ kind: 'conflict', code: 'timeout' });
  });
});
