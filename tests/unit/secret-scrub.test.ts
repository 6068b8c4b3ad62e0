// The one scrubber for what leaves the process (src/secret-scrub.ts): which shapes it masks, what it
// must leave readable, the configured values it knows (DATABASE_URL's and SMTP_URL's passwords among
// them), and two of its chokepoints that need no server: a log line and what `ctb` prints of an error.
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { loadCliConfig, printError } from '../../src/cli/with-context.js';
import { testConfig } from '../../src/config/env.js';
import { Secret } from '../../src/config/secret.js';
import { createLogger } from '../../src/logger.js';
import { configSecrets, makeScrubber, scrubberFor, scrubDeep, scrubShapes, SLACK_STRUCTURAL_KEYS } from '../../src/secret-scrub.js';
import { recordingIo } from '../support/cli-io.js';

const REHEARSAL = 'rehearsal token=xoxb-1234-SECRET postgres://u:hunter2@db/x';

describe('the shapes masked wherever they occur', () => {
  it('masks the password of any URL\'s userinfo or query, keeping the scheme, user and host', () => {
    expect(scrubShapes('postgres://u:hunter2@db/x')).toBe('postgres://u:[redacted]@db/x');
    expect(scrubShapes('connect to postgresql://ctb:s3cr%40t@db.internal:5432/ctb?sslmode=require failed'))
      .toBe('connect to postgresql://ctb:[redacted]@db.internal:5432/ctb?sslmode=require failed');
    expect(scrubShapes('smtp://alerts:mail-pass@mail.example.org:587')).toBe('smtp://alerts:[redacted]@mail.example.org:587');
    expect(scrubShapes('GET https://bob:pw@example.com/x')).toBe('GET https://bob:[redacted]@example.com/x');
    // No user, a password with an unencoded @ or a colon: the whole password still goes.
    expect(scrubShapes('redis://:hunter2@cache:6379')).toBe('redis://:[redacted]@cache:6379');
    expect(scrubShapes('postgres://u:p@ss:w@db/x')).toBe('postgres://u:[redacted]@db/x');
    // A password in the query string, as postgres also takes it.
    expect(scrubShapes('postgresql://ctb@db:5432/ctb?password=hunter2hunter2&sslmode=require failed'))
      .toBe('postgresql://ctb@db:5432/ctb?password=[redacted]&sslmode=require failed');
    expect(scrubShapes('"postgresql://ctb@db/ctb?sslmode=verify-full&sslpassword=k3y-pass"')).toBe('"postgresql://ctb@db/ctb?sslmode=verify-full&sslpassword=[redacted]"');
    // Inside JSON (a log line) the text stays valid JSON.
    const line = JSON.stringify({ msg: 'failed', url: 'postgres://u:hunter2@db/x', other: 'a@b' });
    expect(JSON.parse(scrubShapes(line))).toEqual({ msg: 'failed', url: 'postgres://u:[redacted]@db/x', other: 'a@b' });
  });

  it('masks Slack tokens and base64 runs as long as a Kraken key', () => {
    expect(scrubShapes(REHEARSAL)).toBe('rehearsal token=[redacted] postgres://u:[redacted]@db/x');
    expect(scrubShapes('app xapp-1-A0B1C2-123456')).toBe('app [redacted]');
    const key = 'aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5bC7dE9fG1hJ3kL5mN7pQ';
    expect(scrubShapes(`key=${key};`)).toBe('key=[redacted];');
    expect(scrubShapes(`${'Zm9v'.repeat(22)}==`)).toBe('[redacted]');
  });

  it('leaves alone what operators read to debug', () => {
    for (const text of [
      'postgres://ctb@db.internal:5432/ctb', // a URL without a password
      'https://api.kraken.com/0/private/AddOrder',
      'https://hooks.example.com:8443/path?at=user@example.com',
      'order OQCLML-BW3P3-BUCMWZ, client order id ctb-20261207-000123',
      'posted to C0123ABCDEF (ts 1700000000.000100)',
      'raised 2026-12-07T03:29:41Z, resolved 2026-12-07T03:31:02.123Z',
      'connect ECONNREFUSED 127.0.0.1:5432; database at host:5432',
      'ops@example.com, U0OPERATOR, BTC/USD',
      'expected smtp://user:pass@host:587 or postgres://user:password@host:5432/database', // a hint's placeholders
      'postgres://ctb:redacted@db.internal:5432/ctb', // masked already (a snapshot's env)
      'x'.repeat(53),
      'reply to https://hooks.slack.com/commands/T0123ABCD/1234567890123/AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdefghij',
      'see https://example.com/docs/operations/runbooks/incident/response/kill/switch/and/flatten/everything',
      'sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 and 9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08',
    ]) expect(scrubShapes(text), text).toBe(text);
    // Inside a URL its password and a Slack token still go; outside one, a key shape.
    expect(scrubShapes('GET https://u:hunter2@example.com/x?token=xoxb-1234-SECRETVALUE ok'))
      .toBe('GET https://u:[redacted]@example.com/x?token=[redacted] ok');
  });
});

describe('the configured secrets', () => {
  it('include DATABASE_URL\'s password and SMTP_URL\'s, masked even outside a URL', () => {
    const config = testConfig({ DATABASE_URL: 'postgres://ctb:db-pass-4242@db/ctb', SMTP_URL: 'smtp://alerts:mail%2Fpass99@mail.example.org:587' });
    const scrub = scrubberFor(config);
    expect(scrub('password db-pass-4242 refused')).toBe('password [redacted] refused');
    expect(scrub('auth mail/pass99 refused')).toBe('auth [redacted] refused');
    expect(scrub('the SMTP_URL smtp://alerts:mail%2Fpass99@mail.example.org:587')).toBe('the SMTP_URL [redacted]');
    expect(scrubberFor(config)).toBe(scrub); // made once per configuration
  });

  it('include every Secret field of the configuration: KILL_HTTP_TOKEN in a log line', () => {
    const token = 'kht-0123456789abcdefghij';
    const config = testConfig({ KILL_HTTP_TOKEN: token, LOG_FORMAT: 'json', LOG_LEVEL: 'info' });
    expect(scrubberFor(config)(`curl -H "Authorization: Bearer ${token}" http://127.0.0.1:8080/kill`))
      .toBe('curl -H "Authorization: Bearer [redacted]" http://127.0.0.1:8080/kill');
    let written = '';
    const destination = new Writable({ write(chunk: Buffer, _enc, done) { written += chunk.toString(); done(); } });
    const log = createLogger({ config, destination, stdout: false, files: false });
    log.warn(`kill over HTTP with ${token}`);
    log.flush();
    expect(written).toContain('kill over HTTP with [redacted]');
    expect(written).not.toContain(token);
  });

  it('include a DATABASE_URL password given in its query string', () => {
    const scrub = scrubberFor(testConfig({ DATABASE_URL: 'postgresql://ctb@db:5432/ctb?password=hunter2hunter2' }));
    expect(scrub('auth hunter2hunter2 refused')).toBe('auth [redacted] refused');
  });

  it('leave out a URL password that is the user or scheme name (masked in URLs by the shape)', () => {
    const scrub = makeScrubber(configSecrets(testConfig({ DATABASE_URL: 'postgres://postgres:postgres@localhost/ctb' })));
    expect(scrub('postgres refused: postgres://postgres:postgres@localhost/ctb')).toBe('postgres refused: postgres://postgres:[redacted]@localhost/ctb');
  });

  it('mask a short or placeholder URL password inside its URL only: the bot\'s own words stay', () => {
    for (const pw of ['confirm', 'paper', '1', 'password']) {
      const scrub = scrubberFor(testConfig({ DATABASE_URL: `postgres://ctb:${pw}@db/ctb` }));
      const line = `exit_trade_confirm {"m":"paper","t":1} password refused`;
      expect(scrub(line), pw).toBe(line);
      if (pw !== 'password') expect(scrub(`postgres://ctb:${pw}@db/ctb`), pw).toBe('postgres://ctb:[redacted]@db/ctb');
    }
    // Long enough, it goes wherever it occurs.
    expect(scrubberFor(testConfig({ DATABASE_URL: 'postgres://ctb:confirm8@db/ctb' }))('auth confirm8 refused')).toBe('auth [redacted] refused');
  });

  it('leave a Slack message\'s structural keys as they are, its text scrubbed', () => {
    const scrub = makeScrubber([new Secret('paper')]);
    const message = {
      channel: 'C0OPS', text: 'kill token paper',
      blocks: [{ type: 'actions', block_id: 'exit_paper', elements: [{ type: 'button', action_id: 'exit_trade_paper', value: '{"m":"paper"}', url: 'https://example.com/paper', text: { type: 'plain_text', text: 'paper' } }] }],
    };
    expect(scrubDeep(message, scrub, SLACK_STRUCTURAL_KEYS)).toEqual({
      channel: 'C0OPS', text: 'kill token [redacted]',
      blocks: [{ type: 'actions', block_id: 'exit_paper', elements: [{ type: 'button', action_id: 'exit_trade_paper', value: '{"m":"paper"}', url: 'https://example.com/paper', text: { type: 'plain_text', text: '[redacted]' } }] }],
    });
  });

  it('returns the text itself when there is nothing to mask, and a message object uncopied', () => {
    const scrub = scrubberFor(testConfig({ DATABASE_URL: 'postgres://ctb:db-pass-4242@db/ctb' }));
    const text = 'order placed: buy 0.0125 BTC/USD at 97123.4 (paper)';
    expect(scrub(text)).toBe(text);
    const message = { channel: 'C0OPS', text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }] };
    expect(scrubDeep(message, scrub)).toBe(message);
    const leaking = { ...message, attachments: [{ text: REHEARSAL }], token: 'xoxb-1234-5678-sentasgiven' };
    const out = scrubDeep(leaking, scrub, new Set(['token']));
    expect(out).toEqual({ ...message, attachments: [{ text: 'rehearsal token=[redacted] postgres://u:[redacted]@db/x' }], token: 'xoxb-1234-5678-sentasgiven' });
    expect(leaking.attachments[0]!.text).toBe(REHEARSAL); // the caller's object is not changed
  });
});

describe('what leaves by the log and the CLI', () => {
  it('a log line carries no URL password', () => {
    let written = '';
    const destination = new Writable({ write(chunk: Buffer, _enc, done) { written += chunk.toString(); done(); } });
    const config = testConfig({ LOG_FORMAT: 'json', LOG_LEVEL: 'info' });
    const log = createLogger({ config, destination, stdout: false, files: false });
    log.warn({ reason: REHEARSAL }, `kill requested: ${REHEARSAL}`);
    log.flush();
    expect(written).toContain('kill requested: rehearsal token=[redacted] postgres://u:[redacted]@db/x');
    expect(written).not.toContain('hunter2');
    expect(written).not.toContain('SECRET');
  });

  it('ctb --json prints a configuration problem and an error\'s extra fields scrubbed', () => {
    const io = recordingIo({ KRAKEN_WS_URL: 'ws://u:s3cr3tpass@remote.example/v2' });
    expect(loadCliConfig(io, true)).toBe(2);
    const printed = JSON.parse(io.out()) as { error: string; problems: string[] };
    expect(printed.error).toContain('ws://u:[redacted]@remote.example/v2');
    expect(printed.problems.join('\n')).toContain('ws://u:[redacted]@remote.example/v2');
    expect(io.out() + io.err()).not.toContain('s3cr3tpass');
    const databaseUrl = 'postgres://ctb:db-pass-4242@db.internal:5432/ctb';
    const json = recordingIo({});
    printError(json, new Error('kill failed'), testConfig({ DATABASE_URL: databaseUrl }), true, { kraken: { said: `cannot reach ${databaseUrl}` } });
    expect(JSON.parse(json.out())).toMatchObject({ error: 'kill failed', kraken: { said: 'cannot reach postgres://ctb:[redacted]@db.internal:5432/ctb' } });
    expect(json.out()).not.toContain('db-pass-4242');
  });

  it('ctb prints a driver\'s error without the password it quotes', () => {
    const databaseUrl = 'postgres://ctb:db-pass-4242@db.internal:5432/ctb';
    const io = recordingIo({});
    const code = printError(io, new Error(`could not parse ${databaseUrl} (token xoxb-1234-SECRET)`), testConfig({ DATABASE_URL: databaseUrl }));
    expect(code).toBe(1);
    expect(io.err()).toBe('error: could not parse postgres://ctb:[redacted]@db.internal:5432/ctb (token [redacted])\n');
    // Before any configuration loaded, the shapes still apply.
    const bare = recordingIo({});
    printError(bare, new Error(`refused: ${databaseUrl}`));
    expect(bare.err()).toBe('error: refused: postgres://ctb:[redacted]@db.internal:5432/ctb\n');
  });
});
