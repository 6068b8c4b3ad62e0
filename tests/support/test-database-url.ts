// Where the tests' PostgreSQL is: the database `test` on this machine's server, reached as `postgres`
// without a password (trust auth), unless TEST_DATABASE_URL names another. Every test database is
// created from it (tests/support/db.ts), so its user must be allowed to create databases.
export const DEFAULT_TEST_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/test';
export const ADMIN_URL = process.env.TEST_DATABASE_URL ?? DEFAULT_TEST_DATABASE_URL;
