// Owns naming the database a kill was aimed at, as its saved copy in DATA_DIR records it: PostgreSQL
// by host, port and database name (never the user nor the password), the embedded database by its
// directory. A saved kill is written only into the database it names (replay-pending.ts): a process
// on another database that reads the same DATA_DIR leaves it for a process on the right one.
import { resolve } from 'node:path';
import { databaseUrlProblem } from '../../db/database-url.js';
import { pgliteDirOf } from '../../db/pglite-start.js';

/** The database of `config`, named without a secret; equal for two configurations that reach the same one. */
export function killTargetOf(config: { DATABASE_URL?: string | undefined; DATA_DIR: string }): string {
  if (!config.DATABASE_URL) return `embedded PGlite in ${resolve(pgliteDirOf(config.DATA_DIR))}`;
  // A URL the driver cannot use (an unencoded / in the password makes the rest read as the database
  // name) is never taken apart here: what it names may be the password.
  if (databaseUrlProblem(config.DATABASE_URL)) return 'PostgreSQL (DATABASE_URL unreadable)';
  try {
    const url = new URL(config.DATABASE_URL);
    // Host names are case-insensitive and may end in the root's dot (LOCALHOST, db.internal.), and an
    // empty host is the driver's localhost; localhost and 127.0.0.1 reach the same server: one name
    // each, so a bot written either way replays the kill.
    const written = url.hostname.toLowerCase().replace(/\.$/, '');
    const host = written === '' || written === 'localhost' || written === '[::1]' ? '127.0.0.1' : written;
    const name = decodeURIComponent(url.pathname.replace(/^\//, '')) || (url.username ? decodeURIComponent(url.username) : 'postgres');
    return `PostgreSQL ${host}:${url.port || '5432'}/${name}`;
  } catch {
    return 'PostgreSQL (DATABASE_URL unreadable)';
  }
}
