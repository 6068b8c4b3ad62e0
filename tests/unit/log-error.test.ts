// An error written to the log says each cause once: an error translated at the edge quotes its cause's
// text, and the serializer does not append that text again (the stack still lists every cause).
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { testConfig } from '../../src/config/env.js';
import { ExchangeError } from '../../src/exchange/errors.js';
import { createLogger } from '../../src/logger.js';

function captured(): { logger: ReturnType<typeof createLogger>; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l));
      done();
    },
  });
  return { logger: createLogger({ config: testConfig({ LOG_FORMAT: 'json' }), stdout: false, files: false, destination: sink, destinationLevel: 'info' }), lines };
}

describe('an error in the log', () => {
  it('adds a cause only when the message does not already say it, and keeps every cause in the stack', async () => {
    const refused = new Error('connect ECONNREFUSED 127.0.0.1:9');
    const net = new TypeError('fetch failed', { cause: refused });
    const ccxt = new Error('kraken GET https://api.kraken.com/0/public/OHLC?pair=XBTUSD fetch failed', { cause: net });
    const err = new ExchangeError('retryable', 'kraken_unreachable', `Kraken's public API did not answer OHLC for BTC/USD: ${ccxt.message}`, { cause: ccxt });
    const { logger, lines } = captured();
    logger.warn({ err }, 'backing off');
    await new Promise<void>((resolve) => logger.flush(() => resolve()));
    const logged = lines[0]!.err as { message: string; stack: string; code: string };
    expect(logged.message).toBe("Kraken's public API did not answer OHLC for BTC/USD: kraken GET https://api.kraken.com/0/public/OHLC?pair=XBTUSD fetch failed: connect ECONNREFUSED 127.0.0.1:9");
    expect(logged.stack).toContain('caused by: TypeError: fetch failed');
    expect(logged.code).toBe('kraken_unreachable');
  });

  it('still appends a cause the message does not mention', async () => {
    const { logger, lines } = captured();
    logger.error({ err: new Error('could not write the snapshot', { cause: new Error('disk full') }) }, 'snapshot');
    await new Promise<void>((resolve) => logger.flush(() => resolve()));
    expect((lines[0]!.err as { message: string }).message).toBe('could not write the snapshot: disk full');
  });
});
