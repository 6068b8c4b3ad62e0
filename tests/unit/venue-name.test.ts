// What outputs call the venue: Kraken only when KRAKEN_API_URL is Kraken's own; any other server
// (`ctb simulate-kraken`, a staging fake) by its origin, never as Kraken; the paper book as the paper simulator.
import { describe, expect, it } from 'vitest';
import { krakenVenueName, upperFirst, venueName } from '../../src/domain/venue-name.js';
import { testConfig } from '../../src/config/env.js';

describe('venue names', () => {
  it("is Kraken for Kraken's own API, the default included", () => {
    expect(krakenVenueName(undefined)).toBe('Kraken');
    expect(krakenVenueName('https://api.kraken.com')).toBe('Kraken');
    expect(venueName('kraken', testConfig({}))).toBe('Kraken');
  });

  it('names a simulator or any other server by its origin and says it is not Kraken, without its userinfo', () => {
    expect(krakenVenueName('http://127.0.0.1:7800')).toBe('the exchange at http://127.0.0.1:7800 (KRAKEN_API_URL, not Kraken)');
    expect(krakenVenueName('https://user:pw@staging.example:8443/base')).toBe('the exchange at https://staging.example:8443 (KRAKEN_API_URL, not Kraken)');
    expect(venueName('kraken', testConfig({ KRAKEN_API_URL: 'http://127.0.0.1:7800' }))).toBe('the exchange at http://127.0.0.1:7800 (KRAKEN_API_URL, not Kraken)');
    expect(upperFirst(krakenVenueName('http://127.0.0.1:7800'))).toMatch(/^The exchange at /);
  });

  it('calls the paper venue the paper simulator, whatever KRAKEN_API_URL is', () => {
    expect(venueName('paper', testConfig({}))).toBe('the paper simulator');
  });
});
