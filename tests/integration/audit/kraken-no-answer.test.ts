// An audit against a Kraken that never answers says so within about one KRAKEN_REQUEST_TIMEOUT: the
// first call that gets no answer is the last one the run waits for; every later Kraken check says
// so at once instead of waiting (and the reconciliation retrying) again. A Kraken that answered once
// in the run is not written off for one later timeout. What the run waited for is read from what it
// sent and logged, not from a stopwatch: on a loaded machine one timeout can take seconds to fire.
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server, type Socket } from 'node:net';
import pino from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { testConfig } from '../../../src/config/env.js';
import { KrakenExchange } from '../../../src/exchange/kraken/kraken-exchange.js';
import { silentLogger } from '../../../src/logger.js';
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

/** A port that accepts connections and never answers on them; the request lines that reached it. */
let silent: Server;
let port: number;
const received: string[] = [];
const sockets = new Set<Socket>();
/**
 * Every request this process sent to that port, by path: counted where it leaves (ccxt's fetch is
 * resolved at call time, as nock relies on), so a request given up before it was written counts too.
 * Not the port's connections: undici opens one more after a request it aborted, or none under load.
 */
const sent: string[] = [];
const realFetch = globalThis.fetch;
beforeAll(async () => {
  silent = createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
    s.once('data', (chunk) => void received.push(chunk.toString('latin1').split('\r\n')[0]!));
  });
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  port = (silent.address() as { port: number }).port;
  globalThis.fetch = (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    if (url.port === String(port)) sent.push(url.pathname);
    return realFetch(input, init);
  };
});
beforeEach(() => {
  sent.length = 0;
  received.length = 0;
});
afterAll(async () => {
  globalThis.fetch = realFetch;
  for (const s of sockets) s.destroy();
  await new Promise((resolve) => silent.close(resolve));
});

describe('the audit against a Kraken that never answers', () => {
  it('waits for one timeout, then says at once for every other Kraken check that Kraken did not answer', async () => {
    const ctx = await testContext({
      database: database(),
      env: { KRAKEN_API_KEY: TEST_API_KEY, KRAKEN_API_SECRET: TEST_API_SECRET, KRAKEN_API_URL: `http://127.0.0.1:${port}`, KRAKEN_REQUEST_TIMEOUT: '1s', KRAKEN_RATE_LIMIT: 'false', LOG_DIR: join(tmpdir(), 'ctb-audit-test-logs') },
    });
    const lines: Array<Record<string, unknown>> = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
    const report = await runAudit({ ...ctx, logger }, { actor, dryRun: true, cwd: '.', checks: [keyRightsCheck, tradingPairsCheck, killSwitchReadyCheck, reconciliationCheck] });
    const value = (id: string) => report.results.find((r) => r.id === id)!.value;
    expect(value('exchange.key_rights')).toBe('Kraken did not answer within 1 s (KRAKEN_REQUEST_TIMEOUT)');
    for (const id of ['exchange.trading_pairs', 'reconciliation.ledger']) {
      expect(value(id)).toBe('Kraken did not answer within 1 s (KRAKEN_REQUEST_TIMEOUT) (earlier in this audit: not asked again)');
    }
    expect(value('risk.kill_switch_ready')).toMatch(/^Kraken did not answer within 1 s/);
    for (const r of report.results) expect(r.fix).toMatch(/can reach Kraken/);
    // One timeout (the key rights' call), not one per check plus the reconciliation's retries and
    // backoff (~40 s before): Kraken was asked once, and the reconciliation gave up at its first try.
    expect(sent, 'requests sent to Kraken').toEqual(['/0/private/GetApiKeyInfo']);
    expect(received.length, 'requests Kraken received').toBeLessThanOrEqual(1);
    for (const line of received) expect(line).toBe('POST /0/private/GetApiKeyInfo HTTP/1.1');
    const tries = lines.filter((l) => l['check'] === 'reconciliation.ledger' && l['endpoint'] === 'TradesHistory');
    expect(tries.map((l) => [l['attempt'], l['willRetry']]), "the reconciliation's tries").toEqual([[1, false]]);
    await ctx.close();
  }, 60_000);

  it('reads a call that got no answer as no answer, not as a GetApiKeyInfo Kraken lacks, when "404" is in its URL', async () => {
    const config = testConfig({ KRAKEN_API_KEY: TEST_API_KEY, KRAKEN_API_SECRET: TEST_API_SECRET, KRAKEN_API_URL: `http://127.0.0.1:${port}/404`, KRAKEN_REQUEST_TIMEOUT: '1s' });
    const kraken = new KrakenExchange(config, { logger: silentLogger(), armed: false, enableRateLimit: false });
    await expect(kraken.fetchKeyRights()).rejects.toMatchObject({ kind: 'retryable', code: 'timeout' });
    // Not followed by the probes (BalanceEx, WithdrawMethods) for a key whose rights Kraken would not say.
    expect(sent).toEqual(['/404/0/private/GetApiKeyInfo']);
  });

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
