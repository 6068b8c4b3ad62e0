// A mark Kraken could not give is one log line naming the pair and why — never a serialized stack.
import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { testConfig } from '../../src/config/env.js';
import { loadMarks } from '../../src/services/trades/marks.js';

describe('loadMarks', () => {
  it('logs an unreachable Kraken as one short line, without the stack', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, new Writable({ write(chunk, _enc, done) { lines.push(String(chunk)); done(); } }));
    const err = new Error('getaddrinfo ENOTFOUND api.kraken.com');
    const mark = await loadMarks(
      { prices: { lastCandle: () => undefined } as never, config: testConfig({}), clock: new ManualClock(), logger },
      [{ symbol: 'BTC/USD', feed: 'kraken' }],
      { publicMarket: async () => ({ fetchLastPrice: async () => { throw err; }, fetchCandles: async () => [], fetchQuoteVolume24h: async () => undefined }) },
    );
    expect(mark('BTC/USD', 'kraken')).toBeNull();
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!).msg).toBe('no mark price from Kraken for BTC/USD: getaddrinfo ENOTFOUND api.kraken.com');
    expect(lines[0]).not.toMatch(/stack|at .*\.ts:\d+/);
  });
});
