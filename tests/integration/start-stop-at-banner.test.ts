// A stop signal just after the engine took its lease, while the start is at its banner: the banner
// waits (up to BANNER_LEASE_WAIT_MS, 5 s, each) for the engine's first try for the lease and its first pass.
// The stop ends the engine's loop before that pass, and the wait used to run out in full: the start
// ended 5 s after the stop instead of at once. tests/unit/engine-wait-within.test.ts shows the waits
// end on the signal.
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { features } from '../../src/app/features.js';
import { startBot } from '../../src/app/runtime.js';
import { StartStoppedError } from '../../src/app/wait-for-database.js';
import { testConfig } from '../../src/config/env.js';
import { usePostgresTestDb } from '../support/db.js';

const database = usePostgresTestDb({ truncate: ['engine_lease'] });
/** The banner's waits, made long: a start that ends well before them did not wait them out. */
const BANNER_WAIT_MS = 20_000;

describe('a stop signal as the engine takes its lease during the start', () => {
  it('ends the start well before the banner\'s wait for the engine would have', { timeout: 60_000 }, async () => {
    const stop = new AbortController();
    let stoppedAt = 0;
    const logger = pino({ level: 'info' }, { write: (line: string) => {
      if (line.includes('engine lease taken') && !stop.signal.aborted) {
        stoppedAt = Date.now();
        stop.abort();
      }
    } });
    const err = await startBot({
      config: testConfig({ HOST: '127.0.0.1', DATABASE_URL: database().url }), logger, features, role: 'all', feed: 'replay', port: 0, stop: stop.signal, bannerWaitMs: BANNER_WAIT_MS,
    }).then(() => null, (e: unknown) => e);

    expect(err).toBeInstanceOf(StartStoppedError);
    expect(stoppedAt).toBeGreaterThan(0);
    // The banner's wait may have begun a little before the stop: half of it is the bound. (It ends in
    // a few hundred ms once it watches the stop.)
    expect(Date.now() - stoppedAt).toBeLessThan(BANNER_WAIT_MS / 2);
  });
});
