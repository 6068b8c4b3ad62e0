// `npm test` on a machine without the tests' PostgreSQL (the database `test` as `postgres` with trust
// auth, or TEST_DATABASE_URL): vitest stops before any test with one line naming what is missing and
// how to fix or override it, never the URL's password, instead of a failure in every file.
import { spawn } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabaseProblem } from '../../support/check-test-database.js';
import { ADMIN_URL } from '../../support/db.js';

const ROOT = new URL('../../..', import.meta.url).pathname;
const FIX = /— the tests need PostgreSQL with a database their user may create databases from: by default postgres:\/\/postgres@127\.0\.0\.1:5432\/test \(user postgres, trust auth for 127\.0\.0\.1; `createdb -h 127\.0\.0\.1 -U postgres test`\), or set TEST_DATABASE_URL=postgres:\/\/user@host:port\/database\.$/;

function urlWith(change: (u: URL) => void): string {
  const u = new URL(ADMIN_URL);
  change(u);
  return u.toString();
}

/** vitest itself (this repository's config), as `npm test` runs it, on one small test file. */
function vitestWith(env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  const child = spawn(process.execPath, ['node_modules/vitest/vitest.mjs', 'run', 'tests/unit/backup-retention.test.ts'], {
    cwd: ROOT, env: { ...process.env, ...env, NO_COLOR: '1', FORCE_COLOR: '0' }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += String(d)));
  child.stderr.on('data', (d) => (out += String(d)));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, out })));
}

describe("the tests' database precheck", { timeout: 60_000 }, () => {
  const role = `ctb_nocreatedb_${process.pid}`;
  const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
  beforeAll(async () => {
    await admin.unsafe(`create role "${role}" login nocreatedb`);
  });
  afterAll(async () => {
    await admin.unsafe(`drop role if exists "${role}"`);
    await admin.end();
  });

  it('stops vitest before any test with one line when the database does not exist, without the password', async () => {
    const url = urlWith((u) => {
      u.password = 'pw-not-to-print';
      u.pathname = `/ctb_missing_${process.pid}`;
    });
    const r = await vitestWith({ TEST_DATABASE_URL: url });
    expect(r.code).toBe(1);
    const line = r.out.split('\n').find((l) => l.startsWith('The tests cannot use'));
    expect(line).toMatch(new RegExp(`^The tests cannot use postgres://[^:@]+@[^/]+/ctb_missing_${process.pid}: The database "ctb_missing_${process.pid}" does not exist on `));
    expect(line).toMatch(FIX);
    expect(r.out).not.toContain('pw-not-to-print');
    expect(r.out).not.toMatch(/No test files found|✓|×|Test Files/);
  });

  it('names a server that refuses the connection', async () => {
    const s = createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const port = (s.address() as AddressInfo).port;
    await new Promise<void>((r) => s.close(() => r()));
    const problem = await testDatabaseProblem(`postgres://postgres@127.0.0.1:${port}/test`);
    expect(problem).toMatch(new RegExp(`^The tests cannot use postgres://postgres@127\\.0\\.0\\.1:${port}/test: The database refused the connection at 127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\)\\. `));
    expect(problem).toMatch(FIX);
  });

  it('names a user that may not create databases (every test database is created)', async () => {
    const problem = await testDatabaseProblem(urlWith((u) => {
      u.username = role;
    }));
    expect(problem).toMatch(new RegExp(`^The tests cannot use .*: user "${role}" may not create databases `));
  });

  it('passes the database the tests run on', async () => {
    expect(await testDatabaseProblem(ADMIN_URL)).toBeNull();
  });
});
