// vitest globalSetup: before any test, checks that the tests' PostgreSQL can be used (TEST_DATABASE_URL,
// else the database `test` on 127.0.0.1:5432 as `postgres` with trust auth: test-database-url.ts) and
// that its user may create databases, as every test's database is one. When not, the run stops with
// one line saying what is missing and how to fix or override it, instead of a failure in every file.
import postgres from 'postgres';
import { databaseProblem } from '../../src/db/connect-errors.js';
import { ADMIN_URL, DEFAULT_TEST_DATABASE_URL } from './test-database-url.js';

const FIX = `the tests need PostgreSQL with a database their user may create databases from: by default ${DEFAULT_TEST_DATABASE_URL} `
  + '(user postgres, trust auth for 127.0.0.1; `createdb -h 127.0.0.1 -U postgres test`), or set TEST_DATABASE_URL=postgres://user@host:port/database';

/** Why `url` cannot hold the tests' databases, in one line (never its password), or null when it can. */
export async function testDatabaseProblem(url: string): Promise<string | null> {
  const shown = (() => {
    try {
      const u = new URL(url);
      u.password = '';
      return u.toString();
    } catch {
      return 'TEST_DATABASE_URL (not a URL)';
    }
  })();
  let sql: postgres.Sql;
  try {
    sql = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 5 });
  } catch (err) {
    return `The tests cannot use ${shown}: ${err instanceof Error ? err.message : String(err)} — ${FIX}.`;
  }
  try {
    const [row] = await sql<Array<{ user: string; may: boolean }>>`select current_user as user, rolsuper or rolcreatedb as may from pg_roles where rolname = current_user`;
    if (!row?.may) return `The tests cannot use ${shown}: user "${row?.user ?? '?'}" may not create databases — ${FIX}.`;
    return null;
  } catch (err) {
    const problem = databaseProblem(err, url);
    const why = problem ? problem.message : err instanceof Error ? err.message.split('\n')[0] : String(err);
    return `The tests cannot use ${shown}: ${why} — ${FIX}.`;
  } finally {
    await sql.end({ timeout: 1 }).catch(() => undefined);
  }
}

// Once a run: vitest calls its global setup for the root project and for each project that runs files.
const memo = globalThis as { __ctbTestDatabaseProblem?: Promise<string | null> };

export default async function checkTestDatabase(): Promise<void> {
  memo.__ctbTestDatabaseProblem ??= testDatabaseProblem(ADMIN_URL);
  const problem = await memo.__ctbTestDatabaseProblem;
  if (problem === null) return;
  // Thrown, vitest would report "No test files found" above a list of every file pattern; the line
  // itself is what the reader needs.
  process.stderr.write(`\n${problem}\n\n`);
  process.exit(1);
}
