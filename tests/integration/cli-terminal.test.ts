// The terminal as people see it, through the real binary: colour only on a terminal (a pty from
// script(1)) or with FORCE_COLOR, never with NO_COLOR or in a pipe; amounts rounded in the table;
// a spinner on stderr while the audit runs on a terminal, and none in a pipe.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresTestDb, type TestDatabase } from '../support/db.js';
import { seedHandComputedLedger } from '../support/factories/stats-ledger-fixture.js';
import { startFakeKraken } from '../support/fake-kraken.js';
import { TEST_API_KEY, TEST_API_SECRET } from '../support/kraken-test-keys.js';

const BIN = new URL('../../bin/ctb.js', import.meta.url).pathname;
const ANSI = /\x1b\[\d+m/;

describe('ctb on a terminal and in a pipe', () => {
  let database: TestDatabase;
  let dir: string;
  beforeAll(async () => {
    database = await createPostgresTestDb();
    await seedHandComputedLedger(database.db);
    dir = mkdtempSync(join(tmpdir(), 'ctb-terminal-'));
  });
  afterAll(async () => {
    await database?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const env = (extra: Record<string, string> = {}) => ({
    PATH: process.env.PATH ?? '', HOME: dir, DATABASE_URL: database.url, DATA_DIR: join(dir, 'data'), LOG_DIR: join(dir, 'logs'), LOG_LEVEL: 'warn',
    // No Kraken beyond this machine: a refused local port.
    KRAKEN_API_URL: 'http://127.0.0.1:9', TERM: 'xterm', ...extra,
  });
  const run = (argv: string[], extra?: Record<string, string>) =>
    promisify(execFile)(process.execPath, [BIN, ...argv], { cwd: dir, env: env(extra) }).then(
      (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
    );
  /** Runs ctb in a pseudo-terminal (stdout and stderr are the terminal); returns what the terminal got. */
  const onTerminal = (argv: string[], extra?: Record<string, string>) =>
    promisify(execFile)('script', ['-qec', [process.execPath, BIN, ...argv].map((a) => `'${a}'`).join(' '), '/dev/null'], { cwd: dir, env: env(extra) }).then(
      (r) => ({ code: 0, text: r.stdout }),
      (e: { code: number; stdout: string }) => ({ code: e.code, text: e.stdout }),
    );

  it('prints no colour into a pipe, colour with FORCE_COLOR, none when NO_COLOR is set too', async () => {
    const [piped, forced, refused] = await Promise.all([
      run(['stats', '30d']), run(['stats', '30d'], { FORCE_COLOR: '1' }), run(['stats', '30d'], { FORCE_COLOR: '1', NO_COLOR: '1' }),
    ]);
    for (const r of [piped, forced, refused]) expect(r.code, r.stderr).toBe(0);
    expect(piped.stdout).not.toMatch(ANSI);
    expect(forced.stdout).toMatch(ANSI);
    expect(refused.stdout).not.toMatch(ANSI);
    const body = (text: string) => text.split('\n').slice(1).join('\n'); // the first line names the window's start, to the millisecond
    expect(body(refused.stdout)).toBe(body(piped.stdout));
    // Money to the cent, percentages to 2 decimals, in aligned rows of one width.
    const lines = piped.stdout.split('\n');
    const rows = lines.slice(lines.findIndex((l) => l.startsWith('╭')), lines.findIndex((l) => l.startsWith('╰')) + 1);
    expect(rows.length).toBeGreaterThan(10);
    expect(new Set(rows.map((l) => l.length)).size).toBe(1);
    expect(rows.join('\n')).toMatch(/\d\.\d\d/);
    for (const cell of rows.join('\n').match(/[-+]?[\d,]+\.\d+%?/g) ?? []) expect(cell).toMatch(/\.\d{2}%?$/);
  }, 60_000);

  it('colours the table on a terminal, and NO_COLOR turns it off there too', async () => {
    const [tty, noColour] = await Promise.all([onTerminal(['stats', '30d']), onTerminal(['stats', '30d'], { NO_COLOR: '1' })]);
    expect(tty.code, tty.text).toBe(0);
    expect(tty.text).toMatch(ANSI);
    expect(noColour.text).toMatch(/realised PnL/);
    expect(noColour.text).not.toMatch(ANSI);
  }, 60_000);

  it('says Kraken could not be reached when it never answered: no stack on stderr, no key or secret anywhere', async () => {
    // A local port nothing listens on: the connection is refused, Kraken never answers.
    const closed = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const { port } = server.address() as AddressInfo;
        server.close(() => resolve(port));
      });
    });
    const key = 'k3yNeverSentAnywhere';
    const secret = 'c2VjcmV0TmV2ZXJTZW50QW55d2hlcmU=';
    const logDir = join(dir, 'logs-unreachable');
    const r = await run(['audit', '--dry-run', '--json'], {
      IS_LIVE: 'true', KRAKEN_API_KEY: key, KRAKEN_API_SECRET: secret, KRAKEN_API_URL: `http://127.0.0.1:${closed}`, LOG_DIR: logDir, LOG_LEVEL: 'info',
    });
    expect(r.code, r.stderr).toBe(1);
    const results = (JSON.parse(r.stdout) as { results: Array<{ id: string; value: string; fix: string | null }> }).results;
    const keyRights = results.find((c) => c.id === 'exchange.key_rights')!;
    expect(keyRights.value).toMatch(/^could not reach Kraken: .*ECONNREFUSED/);
    expect(keyRights.fix).toMatch(/can reach Kraken/);
    expect(results.find((c) => c.id === 'risk.kill_switch_ready')!.value).toMatch(/^could not reach Kraken: /);
    // The reconciliation does not ask for the trade history at all once the key rights got no answer,
    // rather than backing off for half a minute (1 + 2 + 4 + 8 + 16 s) against a port that refuses every connection.
    expect(results.find((c) => c.id === 'reconciliation.ledger')!.value).toMatch(/^could not reach Kraken: .*ECONNREFUSED.* \(earlier in this audit: not asked again\)$/);
    const logged = readFileSync(join(logDir, 'system.log'), 'utf8').split('\n').filter((l) => l.includes('"endpoint":"TradesHistory"'));
    const attempts = logged.map((l) => JSON.parse(l) as { attempt: number; willRetry: boolean; reason: string });
    expect(attempts.map((a) => [a.attempt, a.willRetry])).toEqual([[1, false]]);
    expect(attempts[0]!.reason).toMatch(/ECONNREFUSED/);
    expect(r.stdout).not.toMatch(/Kraken refused/);
    expect(r.stderr).not.toMatch(/\n\s+at |"stack"/);
    for (const text of [r.stdout, r.stderr]) {
      expect(text).not.toContain(key);
      expect(text).not.toContain(secret);
    }
  }, 120_000);

  it('shows a spinner while the audit runs on a terminal, and none in a pipe or with --json', async () => {
    // The audit asks Kraken (a local fake holding its answer to the key-rights call 500 ms, a call every
    // run makes: asserted below), so each run lasts past the spinner's 300 ms delay whatever the
    // machine's speed: a spinner missing from the terminal, or one in the pipe or with --json, is the
    // CLI's doing, not a quick audit's. One held answer is enough for that; holding all seven the audit
    // asks for kept each run waiting some 3.5 s.
    const kraken = await startFakeKraken({ apiKey: TEST_API_KEY, secret: TEST_API_SECRET });
    kraken.setLatency('GetApiKeyInfo', 500);
    const withKraken = { KRAKEN_API_KEY: TEST_API_KEY, KRAKEN_API_SECRET: TEST_API_SECRET, KRAKEN_API_URL: kraken.url };
    const [tty, piped, json] = await Promise.all([
      onTerminal(['audit', '--dry-run'], withKraken), run(['audit', '--dry-run'], withKraken), onTerminal(['audit', '--dry-run', '--json'], withKraken),
    ]).finally(() => kraken.close());
    expect(kraken.callsTo('GetApiKeyInfo').length, 'every run asked Kraken').toBeGreaterThanOrEqual(3);
    expect(tty.text).toMatch(/[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] running the go-live audit \d+\.\ds/);
    expect(tty.text).toMatch(/AUDIT (PASSED|FAILED|READY|NOT READY)|run #\d+/);
    expect(piped.stderr).not.toMatch(/running the go-live audit/);
    expect(json.text).not.toMatch(/running the go-live audit/);
  }, 120_000);
});
