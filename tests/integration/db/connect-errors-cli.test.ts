// `ctb` as a child process against a database it cannot use: a closed port, a database that does
// not exist, a role that may not log in (on this machine's PostgreSQL, a role made for the test)
// and a server that refuses the password (a loopback stand-in: the local server trusts every
// loopback login, so it never asks for one). Each names the cause in one line with exit 2 for
// configuration and 1 for a server that is down; `ctb kill` and `ctb self-heal` never end in a
// silent exit code, and the kill still cancels on Kraken and saves the halt to DATA_DIR. `ctb stats`
// (run from its one-command script) answers each exactly as the ES module build does.
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ctbIn, type ShellRun as Run } from '../../support/ctb-shell.js';
import { ADMIN_URL } from '../../support/db.js';
import { startFakeKraken, type FakeKraken } from '../../support/fake-kraken.js';
import { TEST_API_KEY, TEST_API_SECRET } from '../../support/kraken-test-keys.js';


const ctb = (args: string[], env: Record<string, string>, cwd: string) => ctbIn(cwd, args, env);

const ESM = new URL('../../../dist/ctb.js', import.meta.url).pathname;

/**
 * `ctb stats` as shipped (bin/ctb.js runs it from its one-command script) and from the ES module build:
 * the same output and exit code (cli-fast-script.test.ts compares the builds on the other commands
 * and databases, and leaves these three to this file). The first run.
 */
async function stats(env: Record<string, string>, cwd: string): Promise<Run> {
  const [shipped, esm] = [await ctb(['stats'], env, cwd), await ctbIn(cwd, ['stats'], env, { entry: ESM })];
  expect(shipped).toEqual(esm);
  return shipped;
}

/** A port nothing listens on: bound, then closed. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Answers every startup message with PostgreSQL's "password authentication failed" (28P01). */
async function passwordRefusingServer(): Promise<Server> {
  const server = createServer((socket) => {
    socket.once('data', () => {
      const fields = [['S', 'FATAL'], ['V', 'FATAL'], ['C', '28P01'], ['M', 'password authentication failed for user "ctb_app"']];
      const body = Buffer.concat([...fields.map(([k, v]) => Buffer.from(`${k}${v}\0`)), Buffer.from([0])]);
      const head = Buffer.alloc(5);
      head.write('E', 0);
      head.writeInt32BE(body.length + 4, 1);
      socket.end(Buffer.concat([head, body]));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return server;
}

const firstErrorLine = (r: Run) => r.stderr.split('\n').find((l) => l.startsWith('error:')) ?? '';

// Each case starts a CLI (tsx, ccxt): tens of seconds on a loaded two-core machine.
describe('ctb against a database it cannot use', { timeout: 120_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'ctb-dberr-'));
  const role = `ctb_nologin_${process.pid}`;
  const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
  const adminUrl = new URL(ADMIN_URL);
  let port: number;
  let refusing: Server;

  beforeAll(async () => {
    port = await closedPort();
    refusing = await passwordRefusingServer();
    await admin.unsafe(`create role "${role}" nologin`);
  });
  afterAll(async () => {
    await admin.unsafe(`drop role if exists "${role}"`);
    await admin.end();
    await new Promise<void>((r) => refusing.close(() => r()));
  });

  it('names a refused connection with its host:port and exits 1 (the server is down, not misconfigured)', async () => {
    const r = await stats({ DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/ctb` }, dir);
    expect(r.code).toBe(1);
    expect(firstErrorLine(r)).toBe(`error: The database refused the connection at 127.0.0.1:${port} (ECONNREFUSED). Is PostgreSQL running there, and are the host and port in DATABASE_URL right?`);
    expect(r.stderr).not.toMatch(/Failed query/);
  });

  it('names a database that does not exist and exits 2', async () => {
    const u = new URL(ADMIN_URL);
    u.pathname = `/ctb_missing_${process.pid}`;
    const r = await stats({ DATABASE_URL: u.toString() }, dir);
    expect(r.code).toBe(2);
    expect(firstErrorLine(r)).toMatch(new RegExp(`^error: The database "ctb_missing_${process.pid}" does not exist on ${adminUrl.hostname}:${adminUrl.port || 5432} .*Create it`));
  });

  it('names a login the server refuses (a role made NOLOGIN for this test) and exits 2', async () => {
    const u = new URL(ADMIN_URL);
    u.username = role;
    u.password = 'not-the-password';
    const r = await ctb(['stats'], { DATABASE_URL: u.toString() }, dir);
    expect(r.code).toBe(2);
    expect(firstErrorLine(r)).toMatch(new RegExp(`^error: Authentication failed for database user "${role}" at .*not permitted to log in`));
    expect(r.stderr + r.stdout).not.toContain('not-the-password');
  });

  it('names a wrong password and exits 2, without printing the password', async () => {
    const r = await ctb(['audit-log'], { DATABASE_URL: `postgres://ctb_app:hunter2-secret@127.0.0.1:${(refusing.address() as AddressInfo).port}/ctb` }, dir);
    expect(r.code).toBe(2);
    expect(firstErrorLine(r)).toMatch(/^error: Authentication failed for database user "ctb_app" at 127\.0\.0\.1:\d+: wrong password\./);
    expect(r.stderr + r.stdout).not.toContain('hunter2-secret');
  });

  it('names a DATABASE_URL the driver cannot read and exits 2, without printing the password (not a bare "Invalid URL")', async () => {
    const r = await stats({ DATABASE_URL: 'postgres://app:pw-secret@127.0.0.1:notaport/ctb' }, dir);
    expect(r.code).toBe(2);
    expect(firstErrorLine(r)).toBe('error: DATABASE_URL cannot be used: the port "notaport" is not a number from 1 to 65535. Fix DATABASE_URL: expected postgres://user:password@host:5432/database (or postgresql://…).');
    expect(r.stderr + r.stdout).not.toContain('pw-secret');
  });

  it('self-heal with the database down prints what failed and exits 1 (never 13: no promise left unsettled)', async () => {
    const r = await ctb(['self-heal', '--attempts', '1'], { DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/ctb` }, dir);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/FAILED\s+database\s+.*refused the connection at 127\.0\.0\.1:\d+/);
  });

  it('self-heal with a database that does not exist says so after one attempt and exits 2 (configuration, as every command)', async () => {
    const u = new URL(ADMIN_URL);
    u.pathname = `/ctb_missing_${process.pid}`;
    const r = await ctb(['self-heal', '--json'], { DATABASE_URL: u.toString() }, dir);
    expect(r.code).toBe(2);
    const database = (JSON.parse(r.stdout) as { actions: Array<{ check: string; status: string; attempts: number; detail: string }> }).actions[0];
    expect(database).toMatchObject({ check: 'database', status: 'failed', attempts: 1 });
    expect(database!.detail).toMatch(new RegExp(`^The database "ctb_missing_${process.pid}" does not exist on .*Create it`));
    expect(firstErrorLine(r)).toBe(`error: ${database!.detail}`);
    // Nothing else asks it again: the exchange the bot trades on (and paper's orders) is read from it.
    const actions = (JSON.parse(r.stdout) as { actions: Array<{ check: string; status: string; attempts?: number; detail: string }> }).actions;
    expect(actions.filter((a) => (a.attempts ?? 0) > 1)).toEqual([]);
    expect(actions.find((a) => a.check === 'exchange')).toEqual({ check: 'exchange', status: 'skipped', detail: "not checked: the database could not be used as configured, and it holds the trading mode (and paper's orders)" });
    expect(actions.find((a) => a.check === 'engine')).toMatchObject({ status: 'skipped', detail: 'the heartbeat is in the database, which could not be used as configured' });
  });

  describe('ctb kill with the database down', () => {
    let kraken: FakeKraken;
    beforeAll(async () => {
      kraken = await startFakeKraken({
        orders: [{ txid: 'OQCLML-BW3P3-BUCMWZ', pair: 'XBTUSD', type: 'buy', ordertype: 'limit', price: '40000', vol: '0.1', vol_exec: '0', status: 'open', opentm: 1 }],
      });
    });
    afterAll(() => kraken.close());

    it('still cancels on Kraken, saves the halt to DATA_DIR and exits non-zero saying the halt is pending', async () => {
      const killDir = mkdtempSync(join(tmpdir(), 'ctb-dberr-kill-'));
      const r = await ctb(['kill', '--reason', 'database drill'], {
        DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/ctb`, IS_LIVE: 'true',
        KRAKEN_API_KEY: TEST_API_KEY, KRAKEN_API_SECRET: TEST_API_SECRET, KRAKEN_API_URL: kraken.url, KILL_DB_TIMEOUT: '1s',
      }, killDir);
      expect(r.code).toBe(1);
      expect(kraken.callsTo('CancelAll').length).toBeGreaterThanOrEqual(1);
      expect([...kraken.state.orders.values()].filter((o) => o.status === 'open')).toEqual([]);
      expect(r.stdout).toMatch(/halt is saved only in .*kill-pending\.json, NOT in the database/);
      expect(r.stdout).toMatch(/refused the connection at 127\.0\.0\.1:\d+/);
      const saved = JSON.parse(readFileSync(join(killDir, 'data', 'kill-pending.json'), 'utf8')) as unknown;
      expect(JSON.stringify(saved)).toContain('database drill');
    });

    it('still cancels on Kraken when the database does not exist, saves the halt, then names the database and exits 2', async () => {
      kraken.addOrder({ txid: 'OC4MQX-TR7PD-9KLZ2A', pair: 'XBTUSD', type: 'buy', ordertype: 'limit', price: '42000', vol: '0.1', vol_exec: '0', status: 'open', opentm: 3 });
      const cancelsBefore = kraken.callsTo('CancelAll').length;
      const killDir = mkdtempSync(join(tmpdir(), 'ctb-dberr-kill-missing-'));
      const u = new URL(ADMIN_URL);
      u.pathname = `/ctb_missing_${process.pid}`;
      const r = await ctb(['kill', '--reason', 'missing database drill'], {
        DATABASE_URL: u.toString(), IS_LIVE: 'true', KRAKEN_API_KEY: TEST_API_KEY, KRAKEN_API_SECRET: TEST_API_SECRET, KRAKEN_API_URL: kraken.url,
      }, killDir);
      expect(kraken.callsTo('CancelAll').length).toBeGreaterThan(cancelsBefore);
      expect([...kraken.state.orders.values()].filter((o) => o.status === 'open')).toEqual([]);
      expect(r.stdout).toMatch(/halt is saved only in .*kill-pending\.json, NOT in the database/);
      expect(r.code).toBe(2);
      expect(firstErrorLine(r)).toMatch(new RegExp(`^error: The database "ctb_missing_${process.pid}" does not exist on ${adminUrl.hostname}:${adminUrl.port || 5432} .*Create it \\(createdb ctb_missing_${process.pid}\\)`));
    });

    it('still cancels on Kraken when DATABASE_URL cannot be read, then names the bad URL and exits 2', async () => {
      kraken.addOrder({ txid: 'OB7XQZ-ZV4EF-2LSN7Q', pair: 'XBTUSD', type: 'buy', ordertype: 'limit', price: '41000', vol: '0.1', vol_exec: '0', status: 'open', opentm: 2 });
      const cancelsBefore = kraken.callsTo('CancelAll').length;
      const killDir = mkdtempSync(join(tmpdir(), 'ctb-dberr-kill-url-'));
      const r = await ctb(['kill', '--reason', 'bad url drill'], {
        DATABASE_URL: 'postgres://app:pw-secret%zz@127.0.0.1:5432/ctb', IS_LIVE: 'true',
        KRAKEN_API_KEY: TEST_API_KEY, KRAKEN_API_SECRET: TEST_API_SECRET, KRAKEN_API_URL: kraken.url,
      }, killDir);
      expect(kraken.callsTo('CancelAll').length).toBeGreaterThan(cancelsBefore);
      expect([...kraken.state.orders.values()].filter((o) => o.status === 'open')).toEqual([]);
      expect(r.code).toBe(2);
      expect(firstErrorLine(r)).toMatch(/^error: DATABASE_URL cannot be used: a % in its user name, password or host does not start a valid %-escape/);
      expect(r.stderr + r.stdout).not.toContain('pw-secret');
    });
  });
});
