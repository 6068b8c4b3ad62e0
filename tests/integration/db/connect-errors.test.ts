// databaseProblem over the errors the driver really throws (through drizzle's query wrapper):
// each becomes one line naming the cause, kind 'config' (exit 2) or 'retryable' (exit 1).
import { sql } from 'drizzle-orm';
import { DrizzleQueryError } from 'drizzle-orm/errors';
import { createServer, type AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { databaseProblem, databaseTarget } from '../../../src/db/connect-errors.js';
import { connectPostgres } from '../../../src/db/client.js';
import { databaseUrlProblem } from '../../../src/db/database-url.js';
import { describeError } from '../../../src/services/kill/deadline.js';
import { AppError, exitCodeFor } from '../../../src/errors.js';
import { createPostgresTestDb } from '../../support/db.js';
import { startStallProxy } from '../../support/stall-proxy.js';

async function failureOf(url: string): Promise<unknown> {
  const database = connectPostgres(url, { max: 1 });
  try {
    await database.db.execute(sql`select 1`);
    throw new Error('expected the query to fail');
  } catch (err) {
    return err;
  } finally {
    await database.close().catch(() => {});
  }
}

describe('databaseProblem', () => {
  it('names a refused connection by host:port through the query wrapper, as a failed operation', async () => {
    const s = createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const port = (s.address() as AddressInfo).port;
    await new Promise<void>((r) => s.close(() => r()));
    const url = `postgres://postgres:pw-secret@127.0.0.1:${port}/ctb`;
    const raw = await failureOf(url);
    expect(String((raw as Error).message)).toMatch(/^Failed query/);
    const problem = databaseProblem(raw, url)!;
    expect(problem).toBeInstanceOf(AppError);
    expect(problem).toMatchObject({ kind: 'retryable', code: 'db_refused', message: `The database refused the connection at 127.0.0.1:${port} (ECONNREFUSED).` });
    expect(exitCodeFor(problem)).toBe(1);
    expect(describeError(raw)).toBe(`db_refused: The database refused the connection at 127.0.0.1:${port} (ECONNREFUSED).`);
  });

  it('names a server that accepts but never answers as a timeout', async () => {
    const held = new Set<import('node:net').Socket>();
    const silent = createServer((socket) => void held.add(socket));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as AddressInfo).port;
    const { default: postgres } = await import('postgres');
    const client = postgres(`postgres://postgres@127.0.0.1:${port}/ctb`, { max: 1, connect_timeout: 1 });
    const raw = await client`select 1`.then(() => null, (err: unknown) => err);
    await client.end({ timeout: 1 }).catch(() => {});
    for (const socket of held) socket.destroy();
    await new Promise<void>((r) => silent.close(() => r()));
    expect(databaseProblem(raw)).toMatchObject({ kind: 'retryable', code: 'db_timeout', message: `The database at 127.0.0.1:${port} did not answer in time (CONNECT_TIMEOUT).` });
  });

  it('names new connections closed without an answer where PostgreSQL answered before as the database gone away (retryable), not as a wrong address', async () => {
    const database = await createPostgresTestDb();
    const proxy = await startStallProxy();
    const neverAnswered = await startStallProxy();
    try {
      const url = proxy.urlFor(database.url);
      const first = connectPostgres(url, { max: 1 });
      await first.db.execute(sql`select 1`);
      await first.close();
      // The proxy accepts and closes at once, as one whose server went away: a new client, a new connection.
      proxy.set('down');
      const gone = databaseProblem(await failureOf(url), url)!;
      expect(gone).toMatchObject({
        kind: 'retryable', code: 'db_reset',
        message: `The database at 127.0.0.1:${proxy.port} closed the connection without answering, after it had answered as PostgreSQL (NOT_POSTGRES).`,
      });
      expect(gone.userMessage).not.toContain('DATABASE_URL');
      expect(exitCodeFor(gone)).toBe(1);
      // The same at an address where nothing answered as PostgreSQL yet: a wrong address, said as before.
      neverAnswered.set('down');
      const otherUrl = neverAnswered.urlFor(database.url);
      expect(databaseProblem(await failureOf(otherUrl), otherUrl)).toMatchObject({ kind: 'config', code: 'db_not_postgres' });
    } finally {
      await proxy.close();
      await neverAnswered.close();
      await database.close();
    }
  });

  it('leaves errors that are not about reaching the database alone', () => {
    expect(databaseProblem(new Error('boom'))).toBeNull();
    expect(databaseProblem(Object.assign(new Error('duplicate key'), { code: '23505' }))).toBeNull();
    expect(databaseProblem(new AppError('usage', 'bad_arguments', 'x'))).toBeNull();
  });

  it('names a missing database and a refused login from the server text when the URL is not at hand (the kill path), never as "?"', () => {
    const missing = Object.assign(new Error('database "trading_x" does not exist'), { code: '3D000' });
    expect(describeError(missing)).toBe('db_missing: The database named in DATABASE_URL does not exist (database "trading_x" does not exist).');
    expect(databaseProblem(missing, 'postgres://app:pw-secret@db.internal:6543/trading_x')!.message)
      .toBe('The database "trading_x" does not exist on db.internal:6543 (database "trading_x" does not exist).');
    const login = Object.assign(new Error('password authentication failed for user "app"'), { code: '28P01' });
    expect(describeError(login)).toBe('db_auth_failed: Authentication failed for the database user in DATABASE_URL: wrong password.');
    expect(databaseProblem(login, 'postgres://app:pw-secret@db.internal:6543/t')!.message).toBe('Authentication failed for database user "app" at db.internal:6543: wrong password.');
    for (const err of [missing, login]) expect(describeError(err)).not.toContain('"?"');
  });

  it('says a dropped connection may be a server refusing the TLS that sslmode demands, and only then', () => {
    // The driver's reset under drizzle's query wrapper, as a query on a dropped connection fails.
    const reset = new DrizzleQueryError('select 1', [], Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }));
    for (const mode of ['require', 'verify-full', 'allow', 'bogus']) {
      const hint = databaseProblem(reset, `postgres://app:pw-secret@127.0.0.1:5432/db?sslmode=${mode}`)!.hint;
      expect(hint).toBe(`It may be restarting, or it does not accept TLS, which sslmode=${mode} in DATABASE_URL demands: try again, or check the server's TLS and the sslmode.`);
      expect(hint).not.toContain('pw-secret');
    }
    expect(databaseProblem(reset, 'postgres://app@127.0.0.1:5432/db?ssl=true')!.hint).toContain('which ssl=true in DATABASE_URL demands');
    for (const url of ['postgres://app@127.0.0.1:5432/db', 'postgres://app@127.0.0.1:5432/db?sslmode=prefer', 'postgres://app@127.0.0.1:5432/db?sslmode=disable', undefined]) {
      expect(databaseProblem(reset, url)!.hint, url).toBe('It may be restarting; try again.');
    }
  });

  it('reads the target without its password', () => {
    expect(databaseTarget('postgres://app:s3cret@db.internal:6543/trading')).toEqual({ host: 'db.internal', port: '6543', database: 'trading', user: 'app' });
    expect(JSON.stringify(databaseTarget('postgres://app:s3cret@db.internal/trading'))).not.toContain('s3cret');
  });

  it.each([
    ['a port that is not a number', 'postgres://app:pw-secret@127.0.0.1:notaport/db', /the port "notaport" is not a number from 1 to 65535/],
    ['a port out of range', 'postgres://app:pw-secret@127.0.0.1:65536/db', /the port "65536" is not a number from 1 to 65535/],
    ['a / in the password, not %-encoded (what reads as the port is the password)', 'postgres://app:pw-secret/more@127.0.0.1:5432/db', /a \/ \? or # in its user name or password is not %-encoded \(write \/ as %2F/],
    ['a password that starts with /, not %-encoded (what reads as the database name is the password)', 'postgres://app:/pw-secret@127.0.0.1:5432/db', /a \/ \? or # in its user name or password is not %-encoded/],
    ['digits then a / in the password (a valid port, then the password as the database name)', 'postgres://app:123/pw-secret@127.0.0.1:5432/db', /a \/ \? or # in its user name or password is not %-encoded/],
    ['a # in the password, not %-encoded', 'postgres://app:pw-secret#x@127.0.0.1:5432/db', /a \/ \? or # in its user name or password is not %-encoded/],
    ['a broken %-escape in the password', 'postgres://app:pw-secret%zz@127.0.0.1:5432/db', /does not start a valid %-escape \(write a literal % as %25\)/],
    ['several hosts', 'postgres://app:pw-secret@10.0.0.1:5432,10.0.0.2:5432/db', /names several hosts \(10\.0\.0\.1:5432,10\.0\.0\.2:5432\); one host is supported/],
    ['a URL that is not well formed', 'postgres://app:pw-secret@db host/trading', /not a well-formed URL/],
    ['another scheme', 'mysql://app:pw-secret@127.0.0.1/db', /not a postgres:\/\/ or postgresql:\/\/ URL/],
    ['an sslmode libpq does not know', 'postgres://app:pw-secret@127.0.0.1:5432/db?sslmode=bogus', /its sslmode "bogus" is not one of disable, prefer, require, verify-ca, verify-full/],
    ['sslmode=allow, which the driver would turn into a TLS demand', 'postgres://app:pw-secret@127.0.0.1:5432/db?sslmode=allow', /its sslmode=allow asks for libpq's allow \(without TLS first, then with TLS\), which the PostgreSQL driver here does not do/],
    ['ssl=allow', 'postgres://app:pw-secret@127.0.0.1:5432/db?ssl=allow', /its ssl=allow asks for libpq's allow/],
    ['a misspelt sslmode after a valid one', 'postgres://app:pw-secret@127.0.0.1:5432/db?sslmode=require&sslmode=verify_full', /its sslmode "verify_full" is not one of/],
  ])('refuses a DATABASE_URL with %s before the driver sees it: a configuration error (exit 2) naming the variable, never the password', (_what, url, reason) => {
    let raw: unknown = null;
    try {
      connectPostgres(url, { max: 1 });
    } catch (err) {
      raw = err;
    }
    expect(raw).toBeInstanceOf(AppError);
    expect(raw).toMatchObject({ kind: 'config', code: 'db_bad_url' });
    const problem = databaseProblem(raw)!;
    expect(problem.message).toMatch(/^DATABASE_URL cannot be used: /);
    expect(problem.message).toMatch(reason);
    expect(problem.userMessage).toMatch(/Fix DATABASE_URL: (expected postgres:\/\/user:password@host:5432\/database|write \?sslmode= one of disable, prefer, require, verify-ca, verify-full|write sslmode=prefer \(TLS when the server offers it, else without\) or sslmode=disable \(never TLS\) instead of allow)/);
    expect(problem.userMessage).not.toContain('pw-secret');
    expect(exitCodeFor(problem)).toBe(2);
  });

  it('accepts every DATABASE_URL form the driver reads: host and port, no port, IPv6, an encoded password, a socket directory, the libpq defaults, every libpq sslmode but allow', () => {
    for (const url of [
      'postgres://app:s3cret@db.internal:6543/trading', 'postgresql://app@db.internal/trading', 'postgres://app:pw@[::1]:5432/db',
      'postgres://app:p%40ss%25word@127.0.0.1:5432/db', 'postgres:///ctb?host=/var/run/postgresql', 'postgres://',
      'postgres://db.internal:5432/trading?application_name=ctb@ops',
      ...['disable', 'prefer', 'require', 'verify-ca', 'verify-full'].map((mode) => `postgres://app:pw@db.internal/trading?sslmode=${mode}`),
    ]) expect(databaseUrlProblem(url), url).toBeNull();
  });

  // libpq's allow connects to a server without TLS (it tries without first); the driver would demand
  // TLS and the server drop the connection. The local PostgreSQL has no TLS: the URL with allow is
  // refused before any connection, and prefer, which the refusal offers, connects there without TLS.
  it('refuses sslmode=allow before connecting, and the sslmode it offers connects to a server without TLS', async () => {
    const own = await createPostgresTestDb();
    const local = new URL(own.url);
    local.searchParams.set('sslmode', 'allow');
    let refused: unknown = null;
    let database: ReturnType<typeof connectPostgres> | undefined;
    try {
      database = connectPostgres(local.toString(), { max: 1 });
      await database.db.execute(sql`select 1`);
    } catch (err) {
      refused = err;
    } finally {
      await database?.close().catch(() => {});
    }
    expect(refused).toMatchObject({ kind: 'config', code: 'db_bad_url', hint: expect.stringContaining('write sslmode=prefer') });
    local.searchParams.set('sslmode', 'prefer');
    const prefer = connectPostgres(local.toString(), { max: 1 });
    try {
      const rows = await prefer.db.execute(sql`select coalesce((select ssl from pg_stat_ssl where pid = pg_backend_pid()), false) as ssl`);
      expect(Array.from(rows as unknown as Array<{ ssl: boolean }>)).toEqual([{ ssl: false }]);
    } finally {
      await prefer.close();
      await own.close();
    }
  });
});
