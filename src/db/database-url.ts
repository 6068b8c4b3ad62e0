// Owns telling whether DATABASE_URL is one the PostgreSQL driver can use, before the driver sees it.
// The driver reads the URL its own way (the host part %-decoded, user and password %-decoded, the
// rest through WHATWG URL) and otherwise throws a bare "Invalid URL" or "URI malformed" that names
// neither the variable nor the fault, and an sslmode it does not know it quietly takes as full TLS.
// With several comma-separated hosts none of which answers, it retries forever: the command never ends. Each of these is a configuration error (exit 2) naming
// what is wrong — never the password. The check runs where the database is opened, not when the
// environment is read, so `ctb kill` still sends its Kraken cancel before it reports the bad URL.
import { AppError } from '../errors.js';

const EXPECTED = 'expected postgres://user:password@host:5432/database (or postgresql://…)';

// libpq's sslmode values that postgres.js does as libpq does. It reads any other value as "TLS with
// full certificate checks", so a typo would silently mean something the operator did not write.
const SSL_MODES = ['disable', 'prefer', 'require', 'verify-ca', 'verify-full'];
// What postgres.js connects without TLS, or falls back to plain on (prefer), for sslmode= or ssl=;
// every other value demands TLS (allow too, unlike libpq).
const NO_TLS_DEMAND = new Set(['', 'disable', 'false', 'prefer']);
// libpq's allow tries without TLS first, then with TLS. postgres.js has no such mode: it starts TLS
// whatever the server answers, so a server without TLS drops every connection. Refused, with the
// modes that do what an operator writing allow wants.
const ALLOW_HINT = 'Fix DATABASE_URL: write sslmode=prefer (TLS when the server offers it, else without) or sslmode=disable (never TLS) instead of allow.';

/**
 * The URL's sslmode (or ssl) parameter when it makes postgres.js demand TLS, as [name, value]:
 * a server that refuses TLS then drops the connection, which reads as a restart unless named.
 */
export function tlsDemandOf(databaseUrl: string | undefined): [string, string] | null {
  let query: URLSearchParams;
  try {
    if (!databaseUrl) return null;
    query = new URL(databaseUrl).searchParams;
  } catch {
    return null;
  }
  const name = query.has('sslmode') ? 'sslmode' : query.has('ssl') ? 'ssl' : null;
  const value = name ? (query.get(name) ?? '') : '';
  return name === null || NO_TLS_DEMAND.has(value) ? null : [name, value];
}

function badUrl(reason: string, hint = `Fix DATABASE_URL: ${EXPECTED}.`): AppError {
  return new AppError('config', 'db_bad_url', `DATABASE_URL cannot be used: ${reason}.`, { hint });
}

/** sslmode=allow (or ssl=allow), or the first sslmode the driver does not do as libpq does; only that value is named, never the rest. */
function sslModeProblem(url: URL): AppError | null {
  const allow = ['sslmode', 'ssl'].find((name) => url.searchParams.getAll(name).includes('allow'));
  if (allow) {
    return badUrl(
      `its ${allow}=allow asks for libpq's allow (without TLS first, then with TLS), which the PostgreSQL driver here does not do: it would demand TLS, and a server without TLS would drop every connection`,
      ALLOW_HINT,
    );
  }
  const bad = url.searchParams.getAll('sslmode').find((mode) => !SSL_MODES.includes(mode));
  if (bad === undefined) return null;
  return badUrl(
    `its sslmode "${bad.slice(0, 40)}" is not one of ${SSL_MODES.join(', ')}`,
    `Fix DATABASE_URL: write ?sslmode= one of ${SSL_MODES.join(', ')} (lower case), or leave it out.`,
  );
}

function decodes(text: string): boolean {
  try {
    decodeURIComponent(text);
    return true;
  } catch {
    return false;
  }
}

/** Null when the driver can read `url`; else the problem, as a configuration AppError. */
export function databaseUrlProblem(url: string): AppError | null {
  const scheme = /^postgres(ql)?:\/\//.exec(url);
  if (!scheme) return badUrl(`it is not a postgres:// or postgresql:// URL`);
  const rest = url.slice(scheme[0].length);
  const authority = rest.split(/[?/#]/)[0] ?? '';
  const at = authority.lastIndexOf('@');
  // An @ after the authority's end with a host or port that cannot be one: a / ? or # in the user
  // name or password cut it short, and what reads as its host or port is part of the password.
  // Nothing of it is shown.
  const cutShort = at < 0 && rest.slice(authority.length).includes('@');
  const unencoded = () => badUrl('a / ? or # in its user name or password is not %-encoded (write / as %2F, ? as %3F, # as %23; the text is not shown: it may be the password)');
  // An @ in the path: no database name holds one, a / in the password put it there (with a valid
  // port before it, or none: "u:/pw@db", "u:123/pw@db"), and the name read from it is the password.
  if (cutShort && (rest.slice(authority.length).split(/[?#]/)[0] ?? '').includes('@')) return unencoded();
  const credentials = at >= 0 ? authority.slice(0, at) : '';
  const hostPort = at >= 0 ? authority.slice(at + 1) : authority;
  if (hostPort.includes(',')) {
    if (cutShort) return unencoded();
    return badUrl(`it names several hosts (${hostPort}); one host is supported (with several, a command waits forever when none answers)`);
  }
  const port = /^(?:\[[^\]]*\]|[^:]*)(?::(.*))?$/.exec(hostPort)?.[1];
  if (port !== undefined && port !== '' && !(/^\d{1,5}$/.test(port) && Number(port) >= 1 && Number(port) <= 65535)) {
    if (cutShort) return unencoded();
    return badUrl(`the port "${port.slice(0, 20)}" is not a number from 1 to 65535`);
  }
  if (!decodes(hostPort) || !decodes(credentials)) {
    return badUrl('a % in its user name, password or host does not start a valid %-escape (write a literal % as %25)');
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return badUrl('it is not a well-formed URL (characters such as @ : / # ? in the password must be %-encoded)');
  }
  return sslModeProblem(parsed);
}
