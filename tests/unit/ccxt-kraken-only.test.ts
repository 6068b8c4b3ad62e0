// The exchange adapter imports only ccxt's Kraken files (not its index of every exchange): they
// must be found in the installed ccxt, and be the very classes its index exports — so a ccxt
// release that moves them fails here instead of quietly falling back to the slow import.
import { describe, expect, it } from 'vitest';
import { importCcxtKrakenOnly, loadCcxt } from '../../src/exchange/kraken/ccxt-client.js';

describe("ccxt's Kraken without its index", () => {
  it('imports the Kraken client and the error classes, the same ones ccxt exports', async () => {
    const only = await importCcxtKrakenOnly();
    const ccxt = await import('ccxt');
    expect(only.kraken).toBe(ccxt.kraken);
    expect(only.NetworkError).toBe(ccxt.NetworkError);
    expect(only.BadSymbol).toBe(ccxt.BadSymbol);
    expect(new only.kraken({}).id).toBe('kraken');
    expect((await loadCcxt()).kraken).toBe(ccxt.kraken);
  });
});
