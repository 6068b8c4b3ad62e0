import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import { createPostgresTestDb, type TestDatabase } from '../support/db.js';

describe('ctb check-logs', () => {
  let database: TestDatabase;
  let root: string;
  const out: string[] = [];
  const err: string[] = [];
  const io = () => ({
    env: { DATABASE_URL: database.url, LOG_DIR: join(root, 'logs'), LOG_LEVEL: 'warn' },
    cwd: root,
    stdout: { write: (s: string) => out.push(s) },
    stderr: { write: (s: string) => err.push(s) },
  });
  const ago = (ms: number) => new Date(Date.now() - ms).toISOString();
  beforeAll(async () => {
    database = await createPostgresTestDb();
    root = mkdtempSync(join(tmpdir(), 'ctb-check-logs-'));
    mkdirSync(join(root, 'logs'));
  });
  afterAll(async () => {
    await database?.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('exits 0 on a clean log and 1 naming an uncaught exception in the window', async () => {
    // The CLI writes its own warn+ lines to LOG_DIR too; use a separate file set the test controls.
    writeFileSync(join(root, 'logs/anomalies.log'), `${JSON.stringify({ level: 40, time: ago(60_000), msg: 'slow' })}\n`);
    out.length = 0;
    expect(await runCli(['check-logs', '--period', '1h'], io())).toBe(0);
    expect(out.join('')).toMatch(/^OK .*no unhandled errors in the last 1h/);

    writeFileSync(
      join(root, 'logs/anomalies.log'),
      `${JSON.stringify({ level: 60, time: ago(120_000), msg: 'uncaught exception: price is NaN', event: 'uncaughtException', unhandled: true })}\n`,
    );
    out.length = 0;
    expect(await runCli(['check-logs', '1h'], io())).toBe(1);
    expect(out.join('')).toMatch(/FAILED .*1 unhandled error\n  .* anomalies\.log:1 \[uncaughtException\] uncaught exception: price is NaN/);
  });

  it('warns (exit 0) on a line it cannot read, saying how many and where, and exits 1 on a plain-text Uncaught TypeError', async () => {
    const slow = JSON.stringify({ level: 40, time: ago(60_000), msg: 'slow' });
    writeFileSync(join(root, 'logs/anomalies.log'), `${slow}\nnot a log line\n`);
    out.length = 0;
    expect(await runCli(['check-logs', '1h'], io())).toBe(0);
    expect(out.join('')).toMatch(/^WARN .*no unhandled errors in the last 1h/);
    expect(out.join('')).toContain('\n  warning: 1 unreadable line (not pino JSON with a time: searched only for an uncaught/unhandled marker) at anomalies.log:2\n');

    writeFileSync(join(root, 'logs/anomalies.log'), `Uncaught TypeError: Cannot read properties of undefined (reading 'price')\n${slow}\n`);
    out.length = 0;
    expect(await runCli(['check-logs', '1h'], io())).toBe(1);
    expect(out.join('')).toMatch(/^FAILED .*1 unhandled error\n {2}\(no time\) anomalies\.log:1 \[uncaughtException\] Uncaught TypeError: Cannot read properties of undefined/);
  });

  it('exits 2 on a malformed window, naming the expected form', async () => {
    err.length = 0;
    expect(await runCli(['check-logs', '--period', 'soon'], io())).toBe(2);
    expect(err.join('')).toContain('expected a duration such as 30m, 2h or 1d, got "soon"');
    // Named as the terminal names it ([period], --period), also when given positionally or by the old --window.
    for (const argv of [['check-logs', '2x'], ['check-logs', '--window', '2x']]) {
      err.length = 0;
      expect(await runCli(argv, io())).toBe(2);
      expect(err.join(''), argv.join(' ')).toContain('error: Bad arguments for check-logs: period: expected a duration such as 30m, 2h or 1d, got "2x"\n');
    }
  });

  it('exits 2 on a --limit that is no number, naming what it takes', async () => {
    for (const limit of ['abc', '0', '101']) {
      err.length = 0;
      expect(await runCli(['check-logs', '--limit', limit], io())).toBe(2);
      expect(err.join(''), limit).toMatch(/^error: Bad arguments for check-logs: limit: expected a whole number from 1 to 100(, got "\d+")?\n/);
      expect(err.join(''), limit).not.toMatch(/Invalid input|NaN/);
    }
  });

  it('still takes the deprecated --window, saying so, and refuses two different periods', async () => {
    writeFileSync(join(root, 'logs/anomalies.log'), `${JSON.stringify({ level: 40, time: ago(60_000), msg: 'slow' })}\n`);
    err.length = 0;
    out.length = 0;
    expect(await runCli(['check-logs', '--window', '3h'], io())).toBe(0);
    expect(out.join('')).toMatch(/no unhandled errors in the last 3h/);
    expect(err.join('')).toContain('warning: --window is deprecated and will be removed; use --period 3h (or: ctb check-logs 3h)');
    err.length = 0;
    expect(await runCli(['check-logs', '2h', '--period', '3h'], io())).toBe(2);
    expect(err.join('')).toMatch(/two different periods: the positional period "2h" and --period 3h/);
  });
});
