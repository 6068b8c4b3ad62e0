// Standard output is readable on a terminal and JSON everywhere else, a command's stderr readable
// unless LOG_FORMAT=json; LOG_DIR's files stay JSON; the terminal format scrubs secrets like the JSON one.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { testConfig } from '../../../src/config/env.js';
import { createLogger, stdoutFormat } from '../../../src/logger.js';

function capture(isTTY: boolean) {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      chunks.push(String(chunk));
      done();
    },
  }) as Writable & { isTTY?: boolean };
  stream.isTTY = isTTY;
  return { stream, text: () => chunks.join('') };
}

async function eventually(done: () => boolean): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
}

describe('the format of standard output', () => {
  it('is pretty on a terminal and JSON on a pipe, unless LOG_FORMAT says which', () => {
    expect(stdoutFormat('auto', { isTTY: true })).toBe('pretty');
    expect(stdoutFormat('auto', { isTTY: false })).toBe('json');
    expect(stdoutFormat('auto', {})).toBe('json');
    expect(stdoutFormat('json', { isTTY: true })).toBe('json');
    expect(stdoutFormat('pretty', { isTTY: false })).toBe('pretty');
    expect(testConfig().LOG_FORMAT).toBe('auto');
    expect(() => testConfig({ LOG_FORMAT: 'fancy' })).toThrow(/LOG_FORMAT/);
  });

  it('on a terminal: one readable line per entry (time, level, message), no JSON; files stay JSON', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ctb-pretty-'));
    const out = capture(true);
    const logger = createLogger({ config: testConfig({ LOG_DIR: dir, LOG_LEVEL: 'info' }), stdoutStream: out.stream });
    logger.info({ event: 'close', tradeId: 7, realizedPnl: '-1.5' }, 'paper close: trade #7 BTC/USD, PnL -1.50 USD');
    logger.info({ open: 2 }, 'engine ready');
    logger.debug('not at info');
    const lines = out.text().trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    // The sentence alone for an event line; other lines keep their fields after the message.
    expect(lines[0]).toMatch(/^\[\d\d:\d\d:\d\d\] INFO: paper close: trade #7 BTC\/USD, PnL -1\.50 USD$/);
    expect(lines[1]).toMatch(/^\[\d\d:\d\d:\d\d\] INFO: engine ready \{"open":2\}$/);
    for (const line of lines) expect(() => JSON.parse(line)).toThrow();
    const logFile = join(dir, 'system.log');
    await eventually(() => existsSync(logFile) && readFileSync(logFile, 'utf8').split('\n').filter(Boolean).length === 2);
    const file = readFileSync(join(dir, 'system.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(file.map((l) => [l.level, l.msg, l.event ?? null])).toEqual([[30, 'paper close: trade #7 BTC/USD, PnL -1.50 USD', 'close'], [30, 'engine ready', null]]);
  });

  it('on a pipe, or with LOG_FORMAT=json on a terminal: one JSON object per line', () => {
    for (const [format, tty] of [['auto', false], ['json', true]] as const) {
      const out = capture(tty);
      const logger = createLogger({ config: testConfig({ LOG_FORMAT: format, LOG_LEVEL: 'info' }), stdoutStream: out.stream, files: false });
      logger.info({ event: 'fill', price: '65000' }, 'paper fill');
      const parsed = JSON.parse(out.text().trim());
      expect(parsed).toMatchObject({ level: 30, msg: 'paper fill', event: 'fill', price: '65000', service: 'ctb' });
    }
  });

  it('scrubs secrets from the terminal format too', () => {
    const out = capture(true);
    const token = 'xoxb-1234567890123-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx';
    const logger = createLogger({ config: testConfig({ SLACK_BOT_TOKEN: token, SLACK_SIGNING_SECRET: '8f14e45fceea167a5a36dedd4bea2543' }), stdoutStream: out.stream, files: false });
    logger.warn({ token, note: `sent ${token}` }, `posting with ${token}`);
    expect(out.text()).toContain('posting with');
    expect(out.text()).not.toContain(token);
  });

  it("a command's warnings on its stderr, a terminal or a pipe (2>err.txt): one short line (level, message, key=value fields; an error's type and message, no stack), secrets scrubbed; piped, JSON with LOG_FORMAT=json", () => {
    const token = 'xoxb-1234567890123-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx';
    const config = testConfig({ SLACK_BOT_TOKEN: token, SLACK_SIGNING_SECRET: '8f14e45fceea167a5a36dedd4bea2543' });
    for (const isTTY of [true, false]) {
      const stderr = capture(isTTY);
      const logger = createLogger({ config, stdout: false, files: false, destination: stderr.stream, destinationIsCommandStderr: true, destinationLevel: 'warn', deferred: true });
      logger.info('not at warn');
      logger.warn({ requestId: 3, err: new Error(`refused ${token}`) }, 'kill: the cancel is handed to the running bot');
      // A terminal may get colours (picocolors decides: FORCE_COLOR, NO_COLOR, and CI, which CI sets).
      const lines = stderr.text().replace(/\u001b\[[0-9;]*m/g, '').trimEnd().split('\n');
      expect(lines, `isTTY ${isTTY}`).toEqual([expect.stringMatching(/^\[\d\d:\d\d:\d\d\] WARN: kill: the cancel is handed to the running bot requestId=3 err="Error: refused \[redacted\]"$/)]);
      expect(stderr.text()).not.toContain(token);
      // No colour codes in a file.
      if (!isTTY) expect(stderr.text()).not.toMatch(/\u001b\[/);
    }
    const asked = capture(false);
    const inScript = createLogger({ config: testConfig({ LOG_FORMAT: 'json' }), stdout: false, files: false, destination: asked.stream, destinationIsCommandStderr: true, destinationLevel: 'warn' });
    inScript.warn({ requestId: 3 }, 'kill: the cancel is handed to the running bot');
    expect(JSON.parse(asked.text().trim())).toMatchObject({ level: 40, msg: 'kill: the cancel is handed to the running bot', requestId: 3 });
    // A terminal is read by a person: LOG_FORMAT=json (set for the bot's output) does not make it JSON.
    const terminal = capture(true);
    const atTerminal = createLogger({ config: testConfig({ LOG_FORMAT: 'json' }), stdout: false, files: false, destination: terminal.stream, destinationIsCommandStderr: true, destinationLevel: 'warn' });
    atTerminal.warn({ requestId: 3, report: { venue: 'kraken', confirmed: false, survivors: [], errors: ['a', 'b', 'c', 'd', 'e'] } }, 'kill could not confirm zero open orders');
    expect(terminal.text().replace(/\u001b\[[0-9;]*m/g, '')).toMatch(/^\[\d\d:\d\d:\d\d\] WARN: kill could not confirm zero open orders requestId=3 report\.venue=kraken report\.confirmed=false report\.errors=\(5 items\)\n$/);
  });

  it('another destination (a capture, a log shipper) keeps following LOG_FORMAT as standard output does: JSON off a terminal', () => {
    const pipe = capture(false);
    const logger = createLogger({ config: testConfig(), stdout: false, files: false, destination: pipe.stream, destinationLevel: 'warn' });
    logger.warn({ requestId: 3 }, 'kill: the cancel is handed to the running bot');
    expect(JSON.parse(pipe.text().trim())).toMatchObject({ level: 40, msg: 'kill: the cancel is handed to the running bot', requestId: 3 });
  });
});
