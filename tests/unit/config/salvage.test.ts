// The kill's configuration salvage: what a kill does not need is dropped to its default; where the
// halt is written never is.
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/config/env.js';
import { salvageConfigForKill } from '../../../src/config/salvage.js';

describe('salvageConfigForKill', () => {
  it('returns a valid configuration untouched, with no problems', () => {
    const { config, problems, dropped } = salvageConfigForKill({ PORT: '3100', LOG_LEVEL: 'warn' });
    expect(config.PORT).toBe(3100);
    expect(problems).toEqual([]);
    expect(dropped).toEqual([]);
  });

  it('drops bad settings and the partners of cross-field problems, keeping the rest as given', () => {
    const { config, problems, dropped } = salvageConfigForKill({
      PORT: 'eighty', IS_LIVE: 'true', DATA_DIR: '/tmp/ctb-salvage', RISK_MAX_DRAWDOWN_PCT: '40', RISK_HARD_DRAWDOWN_PCT: '10',
    });
    expect(config.PORT).toBe(3000);
    expect(config.DATA_DIR).toBe('/tmp/ctb-salvage');
    // IS_LIVE without a key is a problem; the kill needs no arming, so IS_LIVE falls back to paper.
    expect(config.IS_LIVE).toBe(false);
    expect(dropped).toEqual(expect.arrayContaining(['PORT', 'IS_LIVE', 'RISK_MAX_DRAWDOWN_PCT', 'RISK_HARD_DRAWDOWN_PCT']));
    expect(problems.some((p) => p.startsWith('PORT:'))).toBe(true);
    expect(problems.some((p) => p.startsWith('KRAKEN_API_KEY:'))).toBe(true);
  });

  it('gets a kill past a Kraken key set without its secret: the lone key is dropped, the kill is paper-only', () => {
    const { config, problems, dropped } = salvageConfigForKill({ KRAKEN_API_KEY: 'K'.repeat(56), DATA_DIR: '/tmp/ctb-salvage' });
    expect(config.KRAKEN_API_KEY).toBeUndefined();
    expect(dropped).toEqual(['KRAKEN_API_KEY']);
    expect(problems).toEqual([expect.stringMatching(/^KRAKEN_API_SECRET: required when KRAKEN_API_KEY is set/)]);
  });

  it('never drops DATA_DIR or DATABASE_URL: a problem there is thrown', () => {
    expect(() => salvageConfigForKill({ DATABASE_URL: 'mysql://db/ctb', PORT: 'eighty' })).toThrow(/DATABASE_URL/);
    expect(() => salvageConfigForKill({ DATABASE_URL: 'mysql://db/ctb' })).toThrow(ConfigError);
  });
});
