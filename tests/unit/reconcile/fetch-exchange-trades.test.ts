// Fetching the trade history for a reconciliation: how often a failing first call is asked again.
// The engine's reconciliation backs off five times whatever the failure; the audit gives up after
// one retry when Kraken cannot be reached at all (connection refused, host name not resolving).
import { describe, expect, it } from 'vitest';
import { ExchangeError } from '../../../src/exchange/errors.js';
import type { Exchange } from '../../../src/exchange/types.js';
import { fetchAllTrades } from '../../../src/services/reconcile/fetch-exchange-trades.js';

const failing = (cause: string) => new ExchangeError('retryable', cause.includes('timed out') ? 'timeout' : 'network', 'Kraken TradesHistory failed: NetworkError.', {
  cause: new Error(`kraken POST http://127.0.0.1:1/0/private/TradesHistory ${cause}`),
});

/** A Kraken whose trade history always fails with `err`; counts the calls it saw. */
function krakenFailingWith(err: Error): { exchange: Exchange; calls: () => number } {
  let calls = 0;
  const exchange = { fetchMyTrades: async () => { calls += 1; throw err; } } as unknown as Exchange;
  return { exchange, calls: () => calls };
}

async function callsUntilGivingUp(err: Error, opts: { unreachableRetries?: number } = {}): Promise<{ calls: number; waits: number[] }> {
  const kraken = krakenFailingWith(err);
  const waits: number[] = [];
  await expect(fetchAllTrades(kraken.exchange, { ...opts, sleep: async (ms) => { waits.push(ms); } })).rejects.toBe(err);
  return { calls: kraken.calls(), waits };
}

describe('fetchAllTrades when Kraken does not answer', () => {
  for (const cause of ['fetch failed: connect ECONNREFUSED 127.0.0.1:1', 'fetch failed: getaddrinfo ENOTFOUND api.kraken.com', 'fetch failed: getaddrinfo EAI_AGAIN api.kraken.com']) {
    it(`asks once more, after 1 s, when the audit's first call finds no way to Kraken (${cause.split(' ').at(-2)})`, async () => {
      expect(await callsUntilGivingUp(failing(cause), { unreachableRetries: 1 })).toEqual({ calls: 2, waits: [1000] });
    });
  }

  it('keeps backing off 1, 2, 4, 8, 16 s for the engine, which sets no limit, whatever the failure', async () => {
    expect(await callsUntilGivingUp(failing('fetch failed: connect ECONNREFUSED 127.0.0.1:1'))).toEqual({ calls: 6, waits: [1000, 2000, 4000, 8000, 16000] });
  });

  it('keeps the whole backoff in the audit for a timeout, which may pass', async () => {
    expect((await callsUntilGivingUp(failing('timed out after 10000 ms'), { unreachableRetries: 1 })).calls).toBe(6);
  });
});
