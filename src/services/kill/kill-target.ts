// Owns naming the database a kill was aimed at, as its saved copy in DATA_DIR records it: PostgreSQL
// by host, port and database name (never the user nor the password), the embedded database by its
// directory. A saved kill is written only into the database it names (replay-pending.ts): a process
// on another database that reads the same DATA_DIR leaves it for a process on the right one.
//
// One database has one name however it is configured: the name is what the driver connects to, not
// what DATABASE_URL says. postgres.js (3.4, parseOptions) takes what the URL leaves out from PGHOST,
// PGPORT, PGDATABASE, then the user (the URL's, PGUSERNAME, PGUSER, the OS user) for the database,
// else localhost, 5432. Host names are case-insensitive and may end in the root's dot. localhost,
// 127.0.0.1 and ::1 are one name: the driver connects to "localhost" through Node's lookup, which
// may give either loopback address (and tries both), so a bot configured with localhost cannot be
// told to be on 127.0.0.1 rather than ::1 — splitting them would leave a kill unwritten by the very
// bot it was aimed at. Where the two names still differ (a DNS alias, a moved server) the server's
// own identity decides, when the kill knew it (database-identity.ts). The embedded database is named
// by its directory's real path, so a DATA_DIR reached through a symbolic link is the same one.
import { existsSync, realpathSync } from 'node:fs';
import { userInfo } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import type { PostgresEnv } from '../../config/env.js';
import { databaseUrlProblem } from '../../db/database-url.js';
import { pgliteDirOf } from '../../db/pglite-start.js';

export interface KillTargetConfig {
  DATABASE_URL?: string | undefined;
  DATA_DIR: string;
  postgresEnv?: PostgresEnv | undefined;
}

const EMBEDDED = 'embedded PGlite in ';
const LOOPBACK = new Set(['', 'localhost', '127.0.0.1', '::1', '[::1]']);

/** The database of `config`, named without a secret; equal for two configurations that reach the same one. */
export function killTargetOf(config: KillTargetConfig): string {
  if (!config.DATABASE_URL) return `${EMBEDDED}${realPathOf(pgliteDirOf(config.DATA_DIR))}`;
  // A URL the driver cannot use (an unencoded / in the password makes the rest read as the database
  // name) is never taken apart here: what it names may be the password.
  if (databaseUrlProblem(config.DATABASE_URL)) return 'PostgreSQL (DATABASE_URL unreadable)';
  try {
    const url = new URL(config.DATABASE_URL);
    const env = config.postgresEnv ?? {};
    const host = hostName(url.hostname || env.PGHOST || 'localhost');
    const port = portOf(url.port || env.PGPORT || '5432');
    const user = (url.username ? decodeURIComponent(url.username) : '') || env.PGUSERNAME || env.PGUSER || osUser();
    // The path as the driver sends it: not %-decoded.
    const name = url.pathname.replace(/^\//, '') || env.PGDATABASE || user;
    return `PostgreSQL ${host}:${port}/${name}`;
  } catch {
    return 'PostgreSQL (DATABASE_URL unreadable)';
  }
}

/**
 * Whether a saved kill's target names the database `ours` names. A target saved by an older version
 * (a DATA_DIR path not resolved through its links) is resolved now, so the same directory matches.
 */
export function sameKillTarget(saved: string, ours: string): boolean {
  if (saved === ours) return true;
  if (saved.startsWith(EMBEDDED) && ours.startsWith(EMBEDDED)) return realPathOf(saved.slice(EMBEDDED.length)) === ours.slice(EMBEDDED.length);
  return false;
}

function hostName(written: string): string {
  // A directory (a Unix socket's) is a path: its case matters.
  if (written.startsWith('/')) return written;
  const host = written.toLowerCase().replace(/\.$/, '');
  return LOOPBACK.has(host) ? '127.0.0.1' : host;
}

/** "05432" and "5432" are one port; anything else is kept as written (the driver refuses it). */
const portOf = (written: string): string => (/^\d{1,5}$/.test(written) ? String(Number(written)) : written);

function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'postgres';
  }
}

/** The real path of `path`: its existing part resolved through symbolic links, the rest appended. */
function realPathOf(path: string): string {
  const absolute = resolve(path);
  if (existsSync(absolute)) {
    try {
      return realpathSync(absolute);
    } catch {
      return absolute;
    }
  }
  const parent = dirname(absolute);
  return parent === absolute ? absolute : join(realPathOf(parent), basename(absolute));
}
