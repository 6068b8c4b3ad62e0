import { readFileSync } from 'node:fs';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ConfigError, envSchema, readEnv } from '../../src/config/env.js';
import { describeDuration, parseDuration } from '../../src/config/duration.js';

function problemsOf(env: Record<string, string>): string[] {
  try {
    readEnv(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('configuration', () => {
  it('defaults to paper: IS_LIVE unset means not armed', () => {
    expect(readEnv({}).IS_LIVE).toBe(false);
    expect(readEnv({ IS_LIVE: '' }).IS_LIVE).toBe(false);
    expect(readEnv({ IS_LIVE: 'false' }).IS_LIVE).toBe(false);
  });

  it('uses the embedded database when DATABASE_URL is unset', () => {
    expect(readEnv({}).databaseKind).toBe('pglite');
    expect(readEnv({ DATABASE_URL: 'postgres://u@127.0.0.1/db' }).databaseKind).toBe('postgres');
  });

  it('requires both Kraken keys only when IS_LIVE=true, naming each missing variable', () => {
    expect(problemsOf({})).toEqual([]);
    const problems = problemsOf({ IS_LIVE: 'true' });
    expect(problems.some((p) => p.startsWith('KRAKEN_API_KEY:'))).toBe(true);
    expect(problems.some((p) => p.startsWith('KRAKEN_API_SECRET:'))).toBe(true);
  });

  it('refuses a Kraken key without its secret (or the reverse) in paper too, naming the missing variable and never the key', () => {
    const key = 'K'.repeat(56);
    const secret = 'c2VjcmV0'.repeat(11);
    expect(problemsOf({ KRAKEN_API_KEY: key })).toEqual([
      'KRAKEN_API_SECRET: required when KRAKEN_API_KEY is set (the private key of that API key); set both, or neither for paper only',
    ]);
    expect(problemsOf({ KRAKEN_API_SECRET: secret })).toEqual([
      'KRAKEN_API_KEY: required when KRAKEN_API_SECRET is set (the API key the secret belongs to); set both, or neither for paper only',
    ]);
    expect(problemsOf({ KRAKEN_API_KEY: key, KRAKEN_API_SECRET: secret })).toEqual([]);
    expect(problemsOf({ IS_LIVE: 'true', KRAKEN_API_KEY: key })).toEqual(['KRAKEN_API_SECRET: required when IS_LIVE=true (the private key of that API key)']);
  });

  it('reports every malformed field by name with what is expected', () => {
    const problems = problemsOf({ IS_LIVE: 'maybe', PORT: 'abc', MODE_CHANGE_TTL: 'soon', SLACK_OPERATORS: 'bob', MARKET_FEED: 'binance' });
    expect(problems).toEqual(
      expect.arrayContaining([
        'IS_LIVE: expected true, 1, yes, on (for true) or false, 0, no, off (for false), got "maybe"',
        'PORT: expected a whole number, got "abc"',
        expect.stringMatching(/^MODE_CHANGE_TTL: expected a duration such as 30s, 5m/),
        expect.stringMatching(/^SLACK_OPERATORS: expected comma-separated Slack user ids/),
        expect.stringMatching(/^MARKET_FEED: expected one of kraken, replay, got "binance"/),
      ]),
    );
  });

  it('SLACK_APPROVERS naming someone twice is refused: each entry is one person, saying who and what is expected', () => {
    expect(problemsOf({ SLACK_APPROVERS: 'U0APPROVA,U0APPROVA' })).toEqual([
      'SLACK_APPROVERS: lists U0APPROVA more than once: expected each Slack user id once (each entry is one person)',
    ]);
    // An operator listed twice changes nothing of who may do what: kept once, not refused.
    expect(problemsOf({ SLACK_OPERATORS: 'UOPS1,UOPS2,UOPS1,UOPS2,UOPS3' })).toEqual([]);
    expect(readEnv({ SLACK_OPERATORS: 'UOPS1,UOPS2,UOPS1' }).SLACK_OPERATORS).toEqual(['UOPS1', 'UOPS2']);
    expect(problemsOf({ SLACK_APPROVERS: 'U0APPROVA,U0APPROVB' })).toEqual([]);
  });

  it('names a bad SMTP_URL with the other bad fields, saying what is expected and never echoing it', () => {
    const expected = 'SMTP_URL: expected smtp://user:pass@host:587 or smtps://user:pass@host:465, got';
    const problems = problemsOf({ SMTP_URL: 'notaurl-s3cret', PORT: 'abc' });
    expect(problems).toEqual(expect.arrayContaining(['PORT: expected a whole number, got "abc"', expect.stringMatching(/^SMTP_URL: expected smtp:\/\//)]));
    expect(problems).toHaveLength(2);
    expect(problems.find((p) => p.startsWith('SMTP_URL'))).toBe(`${expected} a value that is not a URL (not shown: it may hold a password)`);
    for (const bad of ['https://mailer:s3cret@example.com', 'mailer:s3cret@example.com', 'smtp://mailer:s3cret@']) {
      const [problem, ...rest] = problemsOf({ SMTP_URL: bad });
      expect(rest).toEqual([]);
      expect(problem).toMatch(new RegExp(`^${expected.replace(/[/.+]/g, '\\$&')} `));
      expect(problem).not.toContain('s3cret');
      expect(problem).not.toContain('mailer');
    }
    expect(problemsOf({ SMTP_URL: 'smtp://mailer:s3cret@mail.example.com:587' })).toEqual([]);
    expect(readEnv({ SMTP_URL: 'smtps://mail.example.com' }).SMTP_URL?.reveal()).toBe('smtps://mail.example.com');
  });

  it('lists exactly the words IS_LIVE accepts, and suggests the nearest for a typo or a misspelt choice', () => {
    expect(problemsOf({ IS_LIVE: 'ture' })).toEqual(['IS_LIVE: expected true, 1, yes, on (for true) or false, 0, no, off (for false), got "ture" (did you mean true?)']);
    for (const word of ['true', '1', 'yes', 'on', 'TRUE']) expect(readEnv({ IS_LIVE: word, KRAKEN_API_KEY: 'k', KRAKEN_API_SECRET: 's' }).IS_LIVE).toBe(true);
    for (const word of ['false', '0', 'no', 'off', '']) expect(readEnv({ IS_LIVE: word }).IS_LIVE).toBe(false);
    for (const word of ['ture', 'y', 'enabled', '2']) expect(problemsOf({ IS_LIVE: word })).toHaveLength(1);
    expect(problemsOf({ MARKET_FEED: 'krakn' })).toEqual(['MARKET_FEED: expected one of kraken, replay, got "krakn" (did you mean kraken?)']);
    expect(problemsOf({ LOG_FORMAT: 'xml' })).toEqual(['LOG_FORMAT: expected one of auto, pretty, json, got "xml"']);
  });

  it('refuses GOLIVE_MIN_PAPER_TRADES=0, which would open the go-live gate on no paper trade at all', () => {
    expect(problemsOf({ GOLIVE_MIN_PAPER_TRADES: '0', GOLIVE_MIN_ROI_PCT: '-5' })).toEqual([
      'GOLIVE_MIN_PAPER_TRADES: expected at least 1 (closed paper trades before go-live; a rehearsal may lower it, never to 0), got "0"',
    ]);
    expect(problemsOf({ GOLIVE_MIN_PAPER_TRADES: '-3' })).toHaveLength(1);
    expect(readEnv({ GOLIVE_MIN_PAPER_TRADES: '1' }).GOLIVE_MIN_PAPER_TRADES).toBe(1);
  });

  it('holds secrets so that printing, inspecting or serialising shows [redacted]', () => {
    const key = 'A'.repeat(56);
    const config = readEnv({ KRAKEN_API_KEY: key, KRAKEN_API_SECRET: 'c2VjcmV0'.repeat(11), SLACK_BOT_TOKEN: 'xoxb-1-2-abc', SLACK_SIGNING_SECRET: 'sign' });
    const shown = [String(config.KRAKEN_API_KEY), JSON.stringify(config), inspect(config, { depth: 5 }), `${config.SLACK_BOT_TOKEN}`].join('\n');
    expect(shown).not.toContain(key);
    expect(shown).not.toContain('xoxb-1-2-abc');
    expect(shown).toContain('[redacted]');
    expect(config.KRAKEN_API_KEY?.reveal()).toBe(key);
  });

  it('waits 10 s for a Kraken call unless KRAKEN_REQUEST_TIMEOUT says otherwise, between 1 s and 2 m', () => {
    expect(readEnv({}).KRAKEN_REQUEST_TIMEOUT).toBe(10_000);
    expect(readEnv({ KRAKEN_REQUEST_TIMEOUT: '3s' }).KRAKEN_REQUEST_TIMEOUT).toBe(3_000);
    expect(problemsOf({ KRAKEN_REQUEST_TIMEOUT: '500ms' })).toEqual(['KRAKEN_REQUEST_TIMEOUT: expected between 1s and 2m, got 0.5s']);
    expect(problemsOf({ KRAKEN_REQUEST_TIMEOUT: '5m' })).toEqual(['KRAKEN_REQUEST_TIMEOUT: expected between 1s and 2m, got 300s']);
  });

  it('gives a Kraken call of a kill 10 s unless KILL_CALL_TIMEOUT says otherwise, between 1 s and 2 m', () => {
    expect(readEnv({}).KILL_CALL_TIMEOUT).toBe(10_000);
    expect(readEnv({ KILL_CALL_TIMEOUT: '2s' }).KILL_CALL_TIMEOUT).toBe(2_000);
    expect(problemsOf({ KILL_CALL_TIMEOUT: '500ms' })).toEqual(['KILL_CALL_TIMEOUT: expected between 1s and 2m, got 0.5s']);
    expect(problemsOf({ KILL_CALL_TIMEOUT: '5m' })).toEqual(['KILL_CALL_TIMEOUT: expected between 1s and 2m, got 300s']);
  });

  it('pauses 200 ms before sending a failed Slack call again unless SLACK_RETRY_PAUSE says otherwise, at most 10 s', () => {
    expect(readEnv({}).SLACK_RETRY_PAUSE).toBe(200);
    expect(readEnv({ SLACK_RETRY_PAUSE: '10ms' }).SLACK_RETRY_PAUSE).toBe(10);
    expect(problemsOf({ SLACK_RETRY_PAUSE: '11s' })).toEqual(['SLACK_RETRY_PAUSE: expected at most 10s (a call is tried three times in all), got 11s']);
  });

  it('raises a closing announcement still pending after 15 m unless MODE_ANNOUNCE_ALERT_AFTER says otherwise, between 1 s and 30 d', () => {
    expect(readEnv({}).MODE_ANNOUNCE_ALERT_AFTER).toBe(900_000);
    expect(readEnv({ MODE_ANNOUNCE_ALERT_AFTER: '2h' }).MODE_ANNOUNCE_ALERT_AFTER).toBe(7_200_000);
    expect(problemsOf({ MODE_ANNOUNCE_ALERT_AFTER: '500ms' })).toEqual(['MODE_ANNOUNCE_ALERT_AFTER: expected between 1s and 30d, got 0.5s']);
    expect(problemsOf({ MODE_ANNOUNCE_ALERT_AFTER: '31d' })).toEqual(['MODE_ANNOUNCE_ALERT_AFTER: expected between 1s and 30d, got 2678400s']);
    expect(problemsOf({ MODE_ANNOUNCE_ALERT_AFTER: '99999999999999999999d' })).toEqual(['MODE_ANNOUNCE_ALERT_AFTER: expected between 1s and 30d, got 8.64e+24s']);
  });

  it("cuts off a client idle in the embedded database's one session after 5 s unless PGLITE_IDLE_IN_TRANSACTION says otherwise, between 1 s and 10 m", () => {
    expect(readEnv({}).PGLITE_IDLE_IN_TRANSACTION).toBe(5_000);
    expect(readEnv({ PGLITE_IDLE_IN_TRANSACTION: '2s' }).PGLITE_IDLE_IN_TRANSACTION).toBe(2_000);
    expect(problemsOf({ PGLITE_IDLE_IN_TRANSACTION: '500ms' })).toEqual(['PGLITE_IDLE_IN_TRANSACTION: expected between 1s and 10m, got 0.5s']);
    expect(problemsOf({ PGLITE_IDLE_IN_TRANSACTION: '1h' })).toEqual(['PGLITE_IDLE_IN_TRANSACTION: expected between 1s and 10m, got 3600s']);
  });

  it('waits 10 s for a Slack Web API call unless SLACK_API_TIMEOUT says otherwise, between 1 s and 2 m', () => {
    expect(readEnv({}).SLACK_API_TIMEOUT).toBe(10_000);
    expect(readEnv({ SLACK_API_TIMEOUT: '3s' }).SLACK_API_TIMEOUT).toBe(3_000);
    expect(problemsOf({ SLACK_API_TIMEOUT: '500ms' })).toEqual(['SLACK_API_TIMEOUT: expected between 1s and 2m, got 0.5s']);
    expect(problemsOf({ SLACK_API_TIMEOUT: '5m' })).toEqual(['SLACK_API_TIMEOUT: expected between 1s and 2m, got 300s']);
  });

  it('parses durations as written in env and Slack text', () => {
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('5m')).toBe(300_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('5 minutes')).toBeUndefined();
    expect(parseDuration('0s')).toBeUndefined();
  });

  it('.env.example lists every variable the schema reads', () => {
    const example = readFileSync(new URL('../../.env.example', import.meta.url), 'utf8');
    const listed = new Set([...example.matchAll(/^#?\s*([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]));
    const missing = Object.keys(envSchema.shape).filter((name) => !listed.has(name));
    expect(missing).toEqual([]);
  });
});

describe('describeDuration', () => {
  it('says a duration to the second as a person reads it', () => {
    expect(describeDuration(30_000)).toBe('30s');
    expect(describeDuration(90_000)).toBe('1m 30s');
    expect(describeDuration(60_000)).toBe('1m');
    expect(describeDuration(4_500_000)).toBe('1h 15m');
    expect(describeDuration(86_400_000 + 1_000)).toBe('1d 1s');
    expect(describeDuration(400)).toBe('0s');
  });
});

describe('.env.example as a .env', () => {
  it('holds only names of settings: copied to .env it draws no warning', async () => {
    const { readEnvFile } = await import('../../src/config/env-file.js');
    const { checkSettingNames } = await import('../../src/config/setting-names.js');
    const example = readFileSync(new URL('../../.env.example', import.meta.url), 'utf8');
    const uncommented = example.split('\n').map((l) => l.replace(/^#\s*(?=[A-Z][A-Z0-9_]+=)/, '')).join('\n');
    const read = readEnvFile(uncommented, '.env');
    expect(Object.keys(read.vars).length).toBeGreaterThan(80);
    expect(checkSettingNames({ file: '.env', ...read }, {})).toEqual({ warnings: [], problems: [] });
  });
});
