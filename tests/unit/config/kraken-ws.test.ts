// Where the bot opens Kraken's executions channel, and whether it does: on by default, Kraken's own
// URL beside Kraken's REST API, the same host beside any other KRAKEN_API_URL (a rehearsal never
// reaches the real Kraken's socket), the token never sent unencrypted off this machine.
import { describe, expect, it } from 'vitest';
import { ConfigError, readEnv } from '../../../src/config/env.js';

function problemsOf(env: Record<string, string>): string[] {
  try {
    readEnv(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('the executions channel settings', () => {
  it('are on by default, at Kraken’s authenticated v2 endpoint beside Kraken’s REST API', () => {
    const cfg = readEnv({});
    expect(cfg.KRAKEN_WS_EXECUTIONS).toBe(true);
    expect(cfg.KRAKEN_WS_URL).toBe('wss://ws-auth.kraken.com/v2');
    expect(readEnv({ KRAKEN_WS_EXECUTIONS: 'off' }).KRAKEN_WS_EXECUTIONS).toBe(false);
  });

  it.each([
    ['http://127.0.0.1:7800', 'ws://127.0.0.1:7800/v2'],
    ['http://localhost:7800/', 'ws://localhost:7800/v2'],
    ['https://staging.example.com', 'wss://staging.example.com/v2'],
  ])('follow KRAKEN_API_URL=%s to %s', (api, ws) => {
    const cfg = readEnv({ KRAKEN_API_URL: api });
    expect(cfg.KRAKEN_WS_URL).toBe(ws);
    expect(cfg.krakenWsProblem).toBeUndefined();
  });

  it('open no socket beside a plain-http KRAKEN_API_URL off this machine, and say why', () => {
    const cfg = readEnv({ KRAKEN_API_URL: 'http://staging.example.com' });
    expect(cfg.KRAKEN_WS_URL).toBeUndefined();
    expect(cfg.krakenWsProblem).toMatch(/derived from KRAKEN_API_URL \(ws:\/\/staging\.example\.com\/v2\) is not allowed: expected wss:\/\//);
  });

  it('take KRAKEN_WS_URL as given when it is wss://, or ws:// on loopback', () => {
    expect(readEnv({ KRAKEN_WS_URL: 'wss://beta-ws-auth.kraken.com/v2' }).KRAKEN_WS_URL).toBe('wss://beta-ws-auth.kraken.com/v2');
    expect(readEnv({ KRAKEN_API_URL: 'http://127.0.0.1:1', KRAKEN_WS_URL: 'ws://127.0.0.1:2/v2' }).KRAKEN_WS_URL).toBe('ws://127.0.0.1:2/v2');
  });

  it.each([
    [{ KRAKEN_WS_URL: 'ws://ws.example.com/v2' }, /^KRAKEN_WS_URL: expected wss:\/\/ \(ws:\/\/ only on 127\.0\.0\.1 or localhost/],
    [{ KRAKEN_WS_URL: 'https://ws-auth.kraken.com/v2' }, /^KRAKEN_WS_URL: expected a wss:\/\/ URL such as wss:\/\/ws-auth\.kraken\.com\/v2, got "https:/],
    [{ KRAKEN_WS_URL: 'not a url' }, /^KRAKEN_WS_URL: expected a WebSocket URL such as wss:\/\/ws-auth\.kraken\.com\/v2, got "not a url"/],
    [{ KRAKEN_WS_EXECUTIONS: 'sometimes' }, /^KRAKEN_WS_EXECUTIONS: expected true, 1, yes, on \(for true\) or false, 0, no, off/],
  ])('refuse %o with what is expected', (env, message) => {
    expect(problemsOf(env as Record<string, string>)).toEqual([expect.stringMatching(message)]);
  });
});
