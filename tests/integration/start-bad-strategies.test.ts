// A bad strategies file refuses `ctb start` before anything starts — no port taken, no database
// opened or migrated, no part started — instead of ~4 s in, after the engine's turn came. The error
// lists each problem and gives the hint on a line of its own, not run on from the last problem.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startBot } from '../../src/app/runtime.js';
import { printError } from '../../src/cli/with-context.js';
import { testConfig } from '../../src/config/env.js';
import { AppError } from '../../src/errors.js';
import { silentLogger } from '../../src/logger.js';
import { recordingIo } from '../support/cli-io.js';

describe('ctb start with a bad strategies file', () => {
  it('refuses before the database is opened, naming the field, with the hint on its own line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ctb-bad-strategies-'));
    const file = join(dir, 'strategies.json');
    writeFileSync(file, JSON.stringify({ strategies: [{
      name: 'ok', type: 'ma_crossover', pairs: ['BTC/USD'], params: { fastPeriod: 5, slowPeriod: 20 },
      limits: { maxPositionPctOfEquity: 10, maxNotional: 'lots', maxOpenPositions: 1, minConfidence: 0.5, minVolume24hQuote: 1_000_000 },
    }] }));
    // A database that does not exist: opening it would fail with its own error, so the strategies
    // error shows the file was checked before the database was touched.
    const config = testConfig({
      STRATEGIES_FILE: file, DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/rev2_no_such_database', PORT: '0', HOST: '127.0.0.1', LOG_DIR: join(dir, 'logs'),
    });
    const err = await startBot({ config, logger: silentLogger(), role: 'all', feed: 'replay' }).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('bad_strategies_file');
    const io = recordingIo({});
    expect(printError(io, err, config)).toBe(2);
    expect(io.err()).toBe(
      'error: Invalid strategies file:\n'
      + `  - ${file}: strategies[0:ok].limits.maxNotional: expected a number (quote currency)\n`
      + 'See config/strategies.json in the repository for the expected shape.\n',
    );
  });
});
