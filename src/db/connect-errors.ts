// Owns naming why the database could not be used, in one line a person can act on: refused at
// host:port, no answer in time, database missing, authentication failed, host unknown, a server
// that does not speak PostgreSQL. The driver's own error hides under the query wrapper ("Failed
// query: CREATE SCHEMA …"), so the cause chain is walked to find it. A wrong URL, a missing
// database, a bad login or a port that is not PostgreSQL's is configuration (exit 2); a server that
// is down or slow is a failed operation (exit 1). Passwords never appear: only the host, port,
// database and user are named.
// The socket codes (ECONNREFUSED, ECONNRESET, EPIPE, ENOTFOUND, …) are every network client's, not
// the database's alone: fetch to Kraken, Slack or a webhook fails with the same ones under its
// "fetch failed". They name the database only when the error is known to be its own — raised under
// a query (drizzle's wrapper), on a database socket (marked where it is made: postgres-sockets.ts,
// client.ts), or at the address DATABASE_URL names; any other is described as the failure it is,
// with the remote it names (networkFailure).
import { AppError } from '../errors.js';
import { tlsDemandOf } from './database-url.js';

interface DriverError {
  code?: unknown;
  message?: unknown;
  address?: unknown;
  port?: unknown;
  hostname?: unknown;
  cause?: unknown;
  /** NOT_POSTGRES (postgres-sockets.ts): what the server sent instead, or null when it closed. */
  answer?: unknown;
  /** NOT_POSTGRES: a connection to the same address was ready for queries before (postgres-sockets.ts). */
  answeredBefore?: unknown;
  /** STARTUP_CLOSED (postgres-sockets.ts): the start-up messages the server sent before it closed. */
  after?: unknown;
}

/** Where DATABASE_URL points, without its password: {host, port, database, user}. */
export interface DatabaseTarget {
  host: string;
  port: string;
  database: string;
  user: string;
}

export function databaseTarget(url: string | undefined): DatabaseTarget | null {
  if (!url) return null;
  try {
    const u = new URL(url);
    return {
      host: u.hostname || 'localhost',
      port: u.port || '5432',
      database: decodeURIComponent(u.pathname.replace(/^\//, '')) || decodeURIComponent(u.username) || 'postgres',
      user: decodeURIComponent(u.username) || 'postgres',
    };
  } catch {
    return null;
  }
}

const DATABASE_ERROR = Symbol.for('ctb.databaseError');

/** Marks `err` as raised on a connection to the database (its sockets' errors, at their source). */
export function markDatabaseError(err: unknown): void {
  if (err && typeof err === 'object' && !Object.isFrozen(err)) Object.defineProperty(err, DATABASE_ERROR, { value: true, configurable: true });
}

/** Codes any network client raises: the database's only when the error is known to be (fromDatabase). */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ENOENT', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * drizzle's DrizzleQueryError, known by its shape (a "Failed query: " message, the query's text and
 * its parameters), not by importing drizzle-orm/errors: this module is on `ctb start`'s path before
 * its first line, which imports no package (start-first-line.test.ts).
 */
function isQueryWrapper(e: object): boolean {
  const w = e as { message?: unknown; query?: unknown; params?: unknown };
  return e instanceof Error && typeof w.query === 'string' && Array.isArray(w.params) && typeof w.message === 'string' && w.message.startsWith('Failed query: ');
}

/**
 * Whether `err` came from the database: a query's wrapper or a marked socket error in its cause
 * chain, or a socket error at the very host and port DATABASE_URL names.
 */
function fromDatabase(err: unknown, e: DriverError, target: DatabaseTarget | null): boolean {
  let current: unknown = err;
  for (let depth = 0; depth < 8 && current && typeof current === 'object'; depth++) {
    if (isQueryWrapper(current) || (current as { [DATABASE_ERROR]?: unknown })[DATABASE_ERROR] === true) return true;
    current = (current as DriverError).cause;
  }
  if (!target) return false;
  const host = typeof e.address === 'string' ? e.address : typeof e.hostname === 'string' ? e.hostname : null;
  return host === target.host && (e.port === undefined || e.port === null || String(e.port) === target.port);
}

/** The first error in the cause chain that carries a driver or socket code. */
function driverErrorOf(err: unknown): DriverError | null {
  let current: unknown = err;
  for (let depth = 0; depth < 8 && current && typeof current === 'object'; depth++) {
    const e = current as DriverError;
    if (typeof e.code === 'string' && (/^[0-9A-Z]{5}$/.test(e.code) || /^[A-Z][A-Z_]+$/.test(e.code))) return e;
    current = e.cause;
  }
  return null;
}

const at = (e: DriverError, target: DatabaseTarget | null): string => {
  if (typeof e.address === 'string' && e.address.startsWith('/')) return e.address;
  const host = typeof e.address === 'string' ? e.address : typeof e.hostname === 'string' ? e.hostname : target?.host;
  const port = e.port !== undefined && e.port !== null ? String(e.port) : target?.port;
  return host ? `${host}${port ? `:${port}` : ''}` : 'the configured address';
};

const userAt = (target: DatabaseTarget | null): string =>
  target ? `database user "${target.user}" at ${target.host}:${target.port}` : 'the database user in DATABASE_URL';

// When the server refuses the TLS the URL demands, postgres.js starts it anyway and the server drops
// the connection: that looks like a restart unless the hint names the sslmode (database-url.ts).
function resetHint(databaseUrl: string | undefined): string {
  const param = tlsDemandOf(databaseUrl);
  if (param === null) return 'It may be restarting; try again.';
  return `It may be restarting, or it does not accept TLS, which ${param[0]}=${param[1].slice(0, 20)} in DATABASE_URL demands: try again, or check the server's TLS and the ${param[0]}.`;
}

/**
 * The database problem behind `err`, as an AppError with a one-line message (kind 'config' for
 * what only a configuration change fixes, 'retryable' for a server that is down or slow), or null
 * when `err` is not about reaching the database.
 */
export function databaseProblem(err: unknown, databaseUrl?: string): AppError | null {
  if (err instanceof AppError && err.code.startsWith('db_')) return err;
  const e = driverErrorOf(err);
  if (!e) return null;
  const target = databaseTarget(databaseUrl);
  const code = String(e.code);
  if (SOCKET_CODES.has(code) && !fromDatabase(err, e, target)) return null;
  const serverText = typeof e.message === 'string' ? e.message.split('\n')[0] : '';
  const make = (kind: 'config' | 'retryable', dbCode: string, message: string, hint: string) =>
    new AppError(kind, dbCode, message, { hint, cause: err });
  switch (code) {
    case 'ECONNREFUSED':
      return make('retryable', 'db_refused', `The database refused the connection at ${at(e, target)} (ECONNREFUSED).`,
        'Is PostgreSQL running there, and are the host and port in DATABASE_URL right?');
    case 'ENOENT':
      return make('retryable', 'db_refused', `No database socket at ${at(e, target)} (ENOENT).`,
        'The process that serves the embedded database is not running: start the bot, or set DATABASE_URL.');
    case 'CONNECT_TIMEOUT':
    case 'ETIMEDOUT':
      return make('retryable', 'db_timeout', `The database at ${at(e, target)} did not answer in time (${code}).`,
        'Check that the host is reachable and the server is not overloaded.');
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return make('retryable', 'db_unreachable', `The database host ${at(e, target)} is unreachable (${code}).`, 'Check the network route to the database host.');
    case 'ECONNRESET':
    case 'EPIPE':
    case 'CONNECTION_CLOSED':
    case 'CONNECTION_DESTROYED':
      return make('retryable', 'db_reset', `The database at ${at(e, target)} closed the connection (${code}).`, resetHint(databaseUrl));
    case 'STARTUP_CLOSED':
      // Answered as PostgreSQL, then dropped before it was ready (postgres-sockets.ts): a proxy whose
      // server went away, or a server restarting. Said at once, not retried for ever.
      return make('retryable', 'db_reset',
        `The database at ${at(e, target)} closed the connection during start-up${typeof e.after === 'string' ? ` after it sent ${e.after}` : ''}, without an error message (STARTUP_CLOSED).`,
        resetHint(databaseUrl));
    case 'NOT_POSTGRES':
      // Closed without an answer where PostgreSQL answered before: the database went away behind a proxy or
      // pooler that still accepts connections (or a server going away) — an outage, not a wrong URL.
      if (e.answer === null && e.answeredBefore === true) {
        return make('retryable', 'db_reset', `The database at ${at(e, target)} closed the connection without answering, after it had answered as PostgreSQL (NOT_POSTGRES).`,
          'It (or the server behind a proxy there) may be down or restarting; try again.');
      }
      // A wrong port or a proxy in front: only a change of DATABASE_URL (or of what listens) fixes it.
      return make('config', 'db_not_postgres',
        `The server at ${at(e, target)} did not answer as PostgreSQL (${typeof e.answer === 'string' ? `it sent ${e.answer}` : 'it closed the connection without answering'}).`,
        "Check DATABASE_URL's host and port.");
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return make('config', 'db_host_unknown', `The database host "${typeof e.hostname === 'string' ? e.hostname : target?.host ?? '?'}" could not be found (${code}).`,
        'Check the host name in DATABASE_URL.');
    case '3D000':
      // Without the URL (the kill path names errors on their own) the server's text names the database.
      return make('config', 'db_missing', target
        ? `The database "${target.database}" does not exist on ${target.host}:${target.port} (${serverText}).`
        : `The database named in DATABASE_URL does not exist (${serverText}).`,
        `Create it (createdb ${target?.database ?? '<name>'}) or fix the database name in DATABASE_URL.`);
    case '28P01':
      return make('config', 'db_auth_failed', `Authentication failed for ${userAt(target)}: wrong password.`,
        'Check the user and password in DATABASE_URL.');
    case '28000':
      return make('config', 'db_auth_failed', `Authentication failed for ${userAt(target)}: ${serverText}.`,
        'Check the user in DATABASE_URL and that the server allows it (pg_hba.conf).');
    default:
      return null;
  }
}

/**
 * A failure to reach something that is not the database (fetch to Kraken, Slack or a webhook, a
 * mail server, a closed pipe), in its own words down the cause chain — "fetch failed: connect
 * ECONNREFUSED 127.0.0.1:8080" rather than "fetch failed" — or null when `err` carries no socket
 * code, or is the database's (databaseProblem names those).
 */
export function networkFailure(err: unknown, databaseUrl?: string): string | null {
  const e = driverErrorOf(err);
  if (!e || !SOCKET_CODES.has(String(e.code)) || databaseProblem(err, databaseUrl)) return null;
  const words: string[] = [];
  let current: unknown = err;
  for (let depth = 0; depth < 8 && current && typeof current === 'object'; depth++) {
    const message = (current as DriverError).message;
    if (typeof message === 'string' && message !== '' && !words.some((w) => w.includes(message.split('\n')[0]!))) words.push(message.split('\n')[0]!);
    if (current === e) break;
    current = (current as DriverError).cause;
  }
  const text = words.join(': ');
  const where = typeof e.address === 'string' && e.port !== undefined && e.port !== null ? `${e.address}:${String(e.port)}` : null;
  const named = where === null || text.includes(where) ? text : `${text} (at ${where})`;
  return named.includes(String(e.code)) ? named : `${named} (${String(e.code)})`;
}

/** A database that answered going away: how (refused, lost, no answer in time …), where, and in what words. */
export interface DatabaseOutage {
  kind: 'refused' | 'lost' | 'timeout' | 'unreachable' | 'host not found';
  /** host:port (or the socket's path) without the password. */
  at: string;
  /** What happened, for a person: "connection refused (ECONNREFUSED)". */
  detail: string;
}

// The server's own words for going away: shutting down (57P01 admin, 57P02 crash), starting up (57P03),
// and the connection exceptions (class 08).
const SERVER_GOING_AWAY = /^(57P0[123]|08\d{3})$/;

/**
 * The database went away, if that is what `err` says: refused, closed, reset, no answer in time, its
 * host unreachable or unknown, a server shutting down or starting up — or, at an address that answered
 * as PostgreSQL before, new connections closed without an answer (a proxy whose server is gone), too many
 * clients (53300, 53400: replicas reconnecting after a restart), a login refused after it was accepted (a
 * credential rotation). Null for anything else, a missing database included: waiting does not fix it.
 * Only for a database known to have answered (the bot's start, after its migrations): at the first
 * connection the same errors are a configuration to check (databaseProblem).
 */
export function databaseOutage(err: unknown, databaseUrl?: string): DatabaseOutage | null {
  const e = driverErrorOf(err);
  if (!e) return null;
  const target = databaseTarget(databaseUrl);
  const code = String(e.code);
  if (SOCKET_CODES.has(code) && !fromDatabase(err, e, target)) return null;
  const where = at(e, target);
  const serverText = typeof e.message === 'string' ? e.message.split('\n')[0] : '';
  const outage = (kind: DatabaseOutage['kind'], detail: string): DatabaseOutage => ({ kind, at: where, detail });
  switch (code) {
    case 'ECONNREFUSED':
      return outage('refused', 'connection refused (ECONNREFUSED)');
    case 'ENOENT':
      return outage('refused', 'no socket there (ENOENT)');
    case 'CONNECT_TIMEOUT':
    case 'ETIMEDOUT':
      return outage('timeout', `no answer in time (${code})`);
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return outage('unreachable', `host unreachable (${code})`);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return outage('host not found', `host name not found (${code})`);
    case 'ECONNRESET':
    case 'EPIPE':
    case 'CONNECTION_CLOSED':
    case 'CONNECTION_DESTROYED':
      return outage('lost', `connection lost (${code})`);
    case 'STARTUP_CLOSED':
      return outage('lost', 'connection lost: closed during its start-up without an error message (STARTUP_CLOSED)');
    case '53300':
    case '53400':
      // Too many clients, or a configured limit: common while every replica reconnects after the server restarted.
      return outage('refused', `the server refuses new connections for now: ${serverText} (${code})`);
    case '28P01':
    case '28000':
      // The same login answered moments ago (the migrations): a credential rotation under way, not a
      // configuration to give up on — exiting would take the kill switch down, and the restart would stop there.
      return outage('refused', `the login is refused now, after it had been accepted: ${serverText} (${code}); if the credentials were rotated, DATABASE_URL needs the new ones`);
    case 'NOT_POSTGRES':
      return outage('lost', typeof e.answer === 'string'
        ? `connection lost: the server there now sends ${e.answer} (NOT_POSTGRES)`
        : 'connection lost: new connections are closed without an answer (NOT_POSTGRES)');
    default:
      return SERVER_GOING_AWAY.test(code) ? outage('lost', `connection lost: ${serverText} (${code})`) : null;
  }
}
