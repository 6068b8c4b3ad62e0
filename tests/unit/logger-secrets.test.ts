import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { testConfig } from '../../src/config/env.js';
import { Secret } from '../../src/config/secret.js';
import { createLogger, makeScrubber } from '../../src/logger.js';

// Real-looking credentials: a Kraken key is 56 base64 characters, its secret 88 (64 bytes, base64).
const KRAKEN_KEY = 'aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5bC7dE9fG1hJ3kL5mN7pQ';
const KRAKEN_SECRET = Buffer.from(Array.from({ length: 64 }, (_, i) => (i * 37 + 11) % 256)).toString('base64');
const SLACK_TOKEN = 'xoxb-1234567890123-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx';
const SIGNING_SECRET = '8f14e45fceea167a5a36dedd4bea2543';
const SECRETS = [KRAKEN_KEY, KRAKEN_SECRET, SLACK_TOKEN, SIGNING_SECRET];


/** The files are written asynchronously: wait (up to 20 s on a busy machine) until `done` holds. */
async function eventually(done: () => boolean): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? filesUnder(join(dir, f)) : [join(dir, f)]));
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('logging never writes a secret', () => {
  it('redacts real-looking keys on every logger path: stdout, system.log and anomalies.log', async () => {
    expect(KRAKEN_KEY).toHaveLength(56);
    expect(KRAKEN_SECRET).toHaveLength(88);
    const dir = mkdtempSync(join(tmpdir(), 'ctb-log-'));
    const config = testConfig({
      LOG_DIR: dir, LOG_LEVEL: 'debug', KRAKEN_API_KEY: KRAKEN_KEY, KRAKEN_API_SECRET: KRAKEN_SECRET,
      SLACK_BOT_TOKEN: SLACK_TOKEN, SLACK_SIGNING_SECRET: SIGNING_SECRET,
    });
    let stdout = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      stdout += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
      return true;
    });
    const log = createLogger({ config });
    log.info(`message with key ${KRAKEN_KEY} and secret ${KRAKEN_SECRET}`);
    log.info('format args %s %s', SLACK_TOKEN, SIGNING_SECRET);
    log.info({ apiKey: KRAKEN_KEY, secret: KRAKEN_SECRET, token: SLACK_TOKEN }, 'object fields');
    log.info({ request: { headers: { 'api-key': KRAKEN_KEY, 'api-sign': KRAKEN_SECRET, 'x-slack-signature': SIGNING_SECRET } } }, 'nested headers');
    log.info({ deep: { a: { b: { c: { note: `key=${KRAKEN_KEY}`, list: [SLACK_TOKEN, SIGNING_SECRET] } } } } }, 'deeply nested');
    log.warn({ err: new Error(`auth failed for ${KRAKEN_KEY} / ${SIGNING_SECRET}`, { cause: new Error(`secret ${KRAKEN_SECRET}`) }) }, 'error path');
    log.error(new Error(`bare error with ${SLACK_TOKEN}`));
    log.warn({ key: new Secret(KRAKEN_KEY), nested: { s: new Secret(SIGNING_SECRET) } }, 'Secret objects');
    log.warn({ config }, 'the whole config object');
    log.child({ token: SLACK_TOKEN, who: `signing ${SIGNING_SECRET}` }).error('child bindings');
    log.flush();
    const read = (f: string) => (existsSync(join(dir, f)) ? readFileSync(join(dir, f), 'utf8') : '');
    await eventually(() => read('system.log').includes('child bindings') && read('anomalies.log').includes('child bindings'));

    const system = readFileSync(join(dir, 'system.log'), 'utf8');
    const anomalies = readFileSync(join(dir, 'anomalies.log'), 'utf8');
    // Every path was written (so the absence of secrets below means something)…
    for (const msg of ['message with key', 'format args', 'object fields', 'nested headers', 'deeply nested', 'error path', 'bare error', 'Secret objects', 'the whole config object', 'child bindings']) {
      expect(stdout + system).toContain(msg);
    }
    expect(anomalies).toContain('error path');
    expect(anomalies).toContain('the whole config object');
    expect(anomalies).not.toContain('object fields'); // info stays out of anomalies.log
    // …and no secret reached any of them.
    for (const [name, text] of [['stdout', stdout], ['system.log', system], ['anomalies.log', anomalies]] as const) {
      for (const secret of SECRETS) expect(text.includes(secret), `${name} contains a secret`).toBe(false);
      expect(text).toContain('[redacted]');
    }
  });
});

describe('masking configured secrets whatever their length', () => {
  it('masks a value shorter than 6 characters where it stands as a word, and one of 6 or more anywhere', () => {
    const scrub = makeScrubber([new Secret('abc'), new Secret('k'), new Secret('orphan-secret'), new Secret('c2VjcmV0c2VjcmV0')]);
    expect(scrub('key=abc refused; "abc"; abc')).toBe('key=[redacted] refused; "[redacted]"; [redacted]');
    expect(scrub('took 2 k retries: k')).toBe('took 2 [redacted] retries: [redacted]');
    expect(scrub('SLACK_SIGNING_SECRET=orphan-secret.')).toBe('SLACK_SIGNING_SECRET=[redacted].');
    // Inside a longer word a short value is not that secret: "abcdef", "kraken" stay readable.
    expect(scrub('abcdef kraken')).toBe('abcdef kraken');
    expect(scrub('xc2VjcmV0c2VjcmV0x')).toBe('x[redacted]x');
    // A password of 6 to 15 characters inside a longer word is still that secret (in a URL the shape masks it whole).
    expect(makeScrubber([new Secret('pw4db9')]).call(null, 'login ctb:xpw4db9; refused')).toBe('login ctb:x[redacted]; refused');
  });
});

describe('log rotation', () => {
  it('rotates files below LOG_MAX_BYTES into timestamped archives', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ctb-rot-'));
    const config = testConfig({ LOG_DIR: dir, LOG_MAX_BYTES: '4096', LOG_ARCHIVES: '100', LOG_LEVEL: 'info' });
    const log = createLogger({ config, stdout: false, rotate: true });
    for (let i = 0; i < 400; i++) log.warn({ i, detail: `event ${i} `.repeat(5) }, 'rotation filler line');
    log.flush();
    const linesOf = (name: string) => () => filesUnder(dir).filter((f) => f.includes(name) && f.endsWith('.log'))
      .flatMap((f) => readFileSync(f, 'utf8').split('\n').filter(Boolean));
    const systemLines = linesOf('system');
    // Both files (warn lines go to anomalies too) have every line and the rotation has recorded its
    // history: waited for as events, not for a fixed pause a loaded machine can outlast.
    await eventually(() => systemLines().length >= 400 && linesOf('anomalies')().length >= 400 && existsSync(join(dir, 'system.history')));
    const files = filesUnder(dir).filter((f) => f.endsWith('.log'));
    const archives = files.filter((f) => f.includes(`${join(dir, 'archive')}/`));
    expect(archives.length).toBeGreaterThan(3);
    for (const f of archives) expect(f).toMatch(/archive\/(system|anomalies)-\d{8}T\d{6}-\d+\.log$/);
    for (const f of files) expect(statSync(f).size, f).toBeLessThanOrEqual(4096);
    expect(existsSync(join(dir, 'system.log'))).toBe(true);
    // The rotation's history, by which the audit's logging.rotation tells "rotated" from "never had to".
    expect(existsSync(join(dir, 'system.history'))).toBe(true);
    // Nothing was lost on the way: every line is in the current file or an archive.
    expect(new Set(systemLines().map((l) => JSON.parse(l).i)).size).toBe(400);
  });
});
