// A setting spelt wrong is not set: its default stays in force. Every name in .env must be a
// setting (a warning with file:line and the closest one otherwise); in the environment only a
// near-miss of one of ours is named; a near-miss of a safety setting left unset is refused, exit 2.
import { describe, expect, it } from 'vitest';
import { ctbInShell } from '../../support/ctb-shell.js';
import { usePostgresTestDb } from '../../support/db.js';

const database = usePostgresTestDb();

const list = (dotEnv: string | undefined, env: Record<string, string> = {}) => ctbInShell(['alerts', 'list'], { DATABASE_URL: database().url, ...env }, dotEnv);

describe('names of settings', () => {
  it('refuses a misspelt risk limit or IS_LIVE in .env, naming the line and the setting meant', async () => {
    const run = await list('PORT=3111\nRISK_MAX_DRAWDOWN=5\n# a comment\nIS_LVE=true\n');
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/\.env:2: RISK_MAX_DRAWDOWN is not a setting \(Did you mean RISK_MAX_DRAWDOWN_PCT\?\); refused because RISK_MAX_DRAWDOWN_PCT would stay at its default/);
    expect(run.stderr).toMatch(/\.env:4: IS_LVE is not a setting \(Did you mean IS_LIVE\?\); refused because IS_LIVE would stay at its default/);
  }, 60_000);

  it('warns about any other name in .env, with file:line, and goes on', async () => {
    const run = await list('LOG_LEVL=debug\nFOO_BAR=1\nRISK_MAX_DRAWDOWN_PCT=5\nRISK_MAX_DRAWDOWN=5\n');
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('No open alerts.\n');
    expect(run.stderr).toMatch(/warning: \S*\.env:1: LOG_LEVL is not a setting of this bot: ignored \(Did you mean LOG_LEVEL\?\)/);
    expect(run.stderr).toMatch(/warning: \S*\.env:2: FOO_BAR is not a setting of this bot: ignored \(\.env\.example lists every setting\)/);
    // The setting meant is set under its own name: the stray line changes nothing, a warning says so.
    expect(run.stderr).toMatch(/warning: \S*\.env:4: RISK_MAX_DRAWDOWN is not a setting of this bot: ignored \(Did you mean RISK_MAX_DRAWDOWN_PCT\?\)/);
  }, 60_000);

  it('still warns about a stray name when the configuration is refused: it may be the setting meant', async () => {
    const run = await list('PORT=abc\nLOG_LEVL=debug\n');
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/PORT: expected a whole number/);
    expect(run.stderr).toMatch(/warning: \S*\.env:2: LOG_LEVL is not a setting of this bot: ignored \(Did you mean LOG_LEVEL\?\)/);
  }, 60_000);

  it('judges the environment by near-misses of its own names only', async () => {
    const refused = await list(undefined, { IS_LVE: 'true' });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/environment: IS_LVE is not a setting \(Did you mean IS_LIVE\?\)/);
    // Other programs' variables, some a few letters from ours (HOME/HOST, HOSTNAME), are none of its business.
    const others = await list(undefined, { HOSTNAME: 'box', EDITOR: 'vi', NODE_OPTIONS: '', LOG_LEVL: 'debug' });
    expect(others.code).toBe(0);
    expect(others.stderr).toMatch(/warning: environment: LOG_LEVL is not a setting of this bot: ignored \(Did you mean LOG_LEVEL\?\)/);
    expect(others.stderr.match(/not a setting/g)).toHaveLength(1);
  }, 60_000);
});
