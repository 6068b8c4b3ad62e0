// A bad strategies file refuses `ctb start` before anything starts — no port taken, no database
// opened or migrated, no part started — instead of ~4 s in, after the engine's turn came. The error
// lists each problem and gives the hint on a line of its own, not run on from the last problem. The
// binary says nothing of loading or migrating before it refuses, and leaves LOG_DIR and DATA_DIR alone.
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startBot } from '../../src/app/runtime.js';
import { printError } from '../../src/cli/with-context.js';
import { testConfig } from '../../src/config/env.js';
import { AppError } from '../../src/errors.js';
import { silentLogger } from '../../src/logger.js';
import { recordingIo } from '../support/cli-io.js';
import { ctbIn } from '../support/ctb-shell.js';

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

  it('ctb start refuses before it says it is loading and migrating, touching neither LOG_DIR nor DATA_DIR', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ctb-bad-strategies-cli-'));
    const file = join(dir, 'strategies.json');
    writeFileSync(file, JSON.stringify({ strategies: [{
      name: 'thin', type: 'ma_crossover', pairs: ['BTC/USD'], params: { fastPeriod: 5, slowPeriod: 20 },
      limits: { maxPositionPctOfEquity: 10, maxNotional: 1000, maxOpenPositions: 1, minConfidence: 0.5, minVolume24hQuote: 'lots' },
    }] }));
    const { code, stdout: out, stderr: err } = await ctbIn(dir, ['start', '--feed', 'replay'], { PORT: '0', HOST: '127.0.0.1', STRATEGIES_FILE: file });
    expect(code).toBe(2);
    expect(out).toBe('');
    expect(err).toContain(`error: Invalid strategies file:\n  - ${file}: strategies[0:thin].limits.minVolume24hQuote: expected a number (24h traded value in quote currency)\n`);
    expect([existsSync(join(dir, 'logs')), existsSync(join(dir, 'data'))]).toEqual([false, false]);
  });

  it('ctb start --feed replay refuses a strategy pair the feed does not serve (exit 2), with what is expected and a suggestion', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ctb-bad-pair-cli-'));
    const file = join(dir, 'strategies.json');
    writeFileSync(file, JSON.stringify({ strategies: [{
      name: 'typo', type: 'ma_crossover', pairs: ['BTC/USDD'], params: { fastPeriod: 5, slowPeriod: 20 },
      limits: { maxPositionPctOfEquity: 10, maxNotional: 1000, maxOpenPositions: 1, minConfidence: 0.5, minVolume24hQuote: 1_000_000 },
    }] }));
    const { code, stdout: out, stderr: err } = await ctbIn(dir, ['start', '--feed', 'replay'], { PORT: '0', HOST: '127.0.0.1', STRATEGIES_FILE: file });
    expect(code).toBe(2);
    expect(out).toBe('');
    expect(err).toContain(
      `error: Invalid strategies file:\n  - ${file}: strategies[0:typo].pairs[0]: "BTC/USDD" is not a pair the market feed serves; `
      + 'expected one of TRADING_PAIRS (BTC/USD) (Did you mean BTC/USD?)\n'
      + 'Fix the pair in the strategies file, or add it to TRADING_PAIRS (the pairs the market feed serves).\n',
    );
    expect([existsSync(join(dir, 'logs')), existsSync(join(dir, 'data'))]).toEqual([false, false]);
  });

  it('ctb start names every problem at once: an unknown type, the fields beside it, a pair the feed does not serve, a limit switched off', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ctb-all-problems-cli-'));
    const file = join(dir, 'strategies.json');
    writeFileSync(file, JSON.stringify({ strategies: [
      { name: 'typo', type: 'ma_crosover', pairs: ['XBT/USDQ'], params: { fastPeriod: 5, slowPeriod: 20 }, limits: { maxPositionPctOfEquity: 10 } },
      {
        name: 'loose', type: 'momentum', pairs: ['BTC/USD'], params: { lookback: 'ten', entryPct: 1, exitPct: 1 },
        limits: { maxPositionPctOfEquity: 10, maxNotional: 1000, maxOpenPositions: 1, minConfidence: 0, minVolume24hQuote: 1_000_000 },
      },
    ] }));
    const { code, stdout: out, stderr: err } = await ctbIn(dir, ['start', '--feed', 'replay'], { PORT: '0', HOST: '127.0.0.1', STRATEGIES_FILE: file });
    expect(code).toBe(2);
    expect(out).toBe('');
    const listed = err.split('\n').filter((l) => l.startsWith('  - ')).map((l) => l.slice(`  - ${file}: `.length)).sort();
    expect(listed).toEqual([
      'strategies[0:typo].limits.maxNotional: expected a number (quote currency)',
      'strategies[0:typo].limits.maxOpenPositions: expected a whole number',
      'strategies[0:typo].limits.minConfidence: expected a number from 0 to 1',
      'strategies[0:typo].limits.minVolume24hQuote: expected a number (24h traded value in quote currency)',
      'strategies[0:typo].pairs[0]: "XBT/USDQ" is not a pair the market feed serves; expected one of TRADING_PAIRS (BTC/USD) (Did you mean BTC/USD?)',
      'strategies[0:typo].type: expected type "ma_crossover" or "momentum", got "ma_crosover" (Did you mean ma_crossover?)',
      'strategies[1:loose].limits.minConfidence: expected more than 0 for an enabled strategy (0 lets every signal trade), e.g. 0.3',
      'strategies[1:loose].params.lookback: expected a whole number',
    ]);
    expect([existsSync(join(dir, 'logs')), existsSync(join(dir, 'data'))]).toEqual([false, false]);
  });
});
