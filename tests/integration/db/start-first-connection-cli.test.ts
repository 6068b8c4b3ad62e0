// `ctb start` whose database never answered at the first connection ends at once, saying what to
// fix, with the exit code src/db/connect-errors.ts gives the cause — and the README says the same:
// a missing database is configuration (exit 2), a server that refuses (down, or the wrong host or
// port) is a failed start (exit 1). Real `ctb start` processes against the real PostgreSQL.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ADMIN_URL } from '../../support/db.js';
import { ctbInShell } from '../../support/ctb-shell.js';
import { freePort } from '../../support/free-port.js';

const README = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8').replace(/\s+/g, ' ');
const errorLine = (stderr: string) => stderr.split('\n').find((l) => l.startsWith('error:')) ?? '';

describe('ctb start when the database never answered at the first connection', () => {
  it('a refused connection ends the start at once with exit 1; a missing database with exit 2; the README says which is which', async () => {
    const port = await freePort();
    const refused = await ctbInShell(['start', '--feed', 'replay'], { DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/x` }, undefined, { boundMs: 90_000 });
    expect(refused.signal, refused.stderr).toBeNull();
    expect(refused.code, refused.stderr).toBe(1);
    expect(errorLine(refused.stderr)).toBe(`error: The database refused the connection at 127.0.0.1:${port} (ECONNREFUSED). Is PostgreSQL running there, and are the host and port in DATABASE_URL right?`);

    const u = new URL(ADMIN_URL);
    u.pathname = `/keyless_missing_${process.pid}`;
    const missing = await ctbInShell(['start', '--feed', 'replay'], { DATABASE_URL: u.toString() }, undefined, { boundMs: 90_000 });
    expect(missing.code, missing.stderr).toBe(2);
    expect(errorLine(missing.stderr)).toMatch(/^error: The database "keyless_missing_\d+" does not exist/);

    const says = 'a bad login, a missing database or a URL that is not PostgreSQL\'s is configuration (exit 2); a server refused or silent there (down, or the wrong host or port) is a failed start (exit 1)';
    expect(README.includes(says), `the README says: ${says}`).toBe(true);
    expect(README.includes('A database that never answered, a bad login or a missing database at the first connection, still ends the start at once (exit 2'), 'the README still says a refused database exits 2').toBe(false);
  }, 200_000);
});
