// Configuration problems come in the order an operator fixes them, each named where it is set: the
// .env file top to bottom (file:line), then the environment's settings, then the ones set nowhere —
// not in the order the schema declares the settings.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/config/env.js';
import { loadConfig } from '../../../src/config/load.js';

function problemsOf(envText: string, env: Record<string, string>): string[] {
  const file = join(mkdtempSync(join(tmpdir(), 'ctb-fix-order-')), '.env');
  writeFileSync(file, envText);
  try {
    loadConfig(env, file);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map((p) => p.replace(file, '.env'));
    throw err;
  }
  throw new Error('the configuration was accepted');
}

describe('configuration problems in fixing order', () => {
  it('.env top to bottom with its line, then the environment by name — whatever order the schema has', () => {
    // The schema declares IS_LIVE before PORT and LOG_LEVEL, MARKET_FEED before DEAD_MAN_TIMEOUT.
    const problems = problemsOf('LOG_LEVEL=loud\n# a comment\nPORT=abc\nIS_LIVE=maybe\nRISK_MAX_DRAWDOWN=20\n', { MARKET_FEED: 'binance', DEAD_MAN_TIMEOUT: 'x' });
    expect(problems).toEqual([
      '.env:1: LOG_LEVEL: expected one of trace, debug, info, warn, error, fatal, got "loud"',
      '.env:3: PORT: expected a whole number, got "abc"',
      '.env:4: IS_LIVE: expected true, 1, yes, on (for true) or false, 0, no, off (for false), got "maybe"',
      expect.stringMatching(/^\.env:5: RISK_MAX_DRAWDOWN is not a setting \(Did you mean RISK_MAX_DRAWDOWN_PCT\?\); refused/),
      expect.stringMatching(/^environment: DEAD_MAN_TIMEOUT: expected a duration/),
      'environment: MARKET_FEED: expected one of kraken, replay, got "binance"',
    ]);
  });

  it('a setting the environment sets is the environment\'s to fix, though .env sets it too; one set nowhere comes last', () => {
    const problems = problemsOf('PORT=8080\nRISK_MAX_DRAWDOWN_PCT=50\nRISK_HARD_DRAWDOWN_PCT=10\nKRAKEN_API_KEY=abc\n', { PORT: 'abc' });
    expect(problems).toEqual(['environment: PORT: expected a whole number, got "abc"']);
    expect(problemsOf('RISK_MAX_DRAWDOWN_PCT=50\nKRAKEN_API_KEY=abc\nRISK_HARD_DRAWDOWN_PCT=10\n', { DEAD_MAN_TIMEOUT: '1s' })).toEqual([
      '.env:3: RISK_HARD_DRAWDOWN_PCT: expected at least RISK_MAX_DRAWDOWN_PCT (50), got 10',
      "environment: DEAD_MAN_TIMEOUT: expected between 5s and 1d (Kraken's CancelAllOrdersAfter range), got 1s",
      expect.stringMatching(/^DEAD_MAN_INTERVAL: expected at most half of DEAD_MAN_TIMEOUT/),
      expect.stringMatching(/^KRAKEN_API_SECRET: required when KRAKEN_API_KEY is set/),
    ]);
  });
});
