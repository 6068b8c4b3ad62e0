// Owns what this process knows of its database's own identity (db/queries/server-identity.ts), so a
// kill saved while the database does not answer records which server it was aimed at, and a replay
// compares identities rather than the names two configurations gave one server (kill-target.ts: a DNS
// alias, a standby promoted under another host name). Learned once the database answers (the halt
// watcher at start, each replay) and kept for the process's database handle; a kill never asks for
// it (the database may be what failed). PostgreSQL only: the embedded database is its directory.
import type { Config } from '../../config/env.js';
import type { Db } from '../../db/client.js';
import { readServerIdentity, type ServerIdentity } from '../../db/queries/server-identity.js';
import { withDeadline } from './deadline.js';

export type { ServerIdentity };

const known = new WeakMap<Db, ServerIdentity>();
/** A question in progress, or when the last one went unanswered: asked again only after ASK_AGAIN_MS. */
const asking = new WeakMap<Db, Promise<ServerIdentity | undefined>>();
const unanswered = new WeakMap<Db, number>();
const ASK_AGAIN_MS = 60_000;

export interface IdentityDeps {
  db: Db;
  config: Pick<Config, 'DATABASE_URL' | 'KILL_DB_TIMEOUT'>;
}

/** The identity learned for this database handle, if any (never asks the database). */
export function knownServerIdentity(ctx: { db: Db; config: Pick<Config, 'DATABASE_URL'> }): ServerIdentity | undefined {
  return ctx.config.DATABASE_URL ? known.get(ctx.db) : undefined;
}

/**
 * The database's identity, asked once per handle under the kill's database deadline; undefined for
 * the embedded database, or when the server does not say (no answer, the function revoked: not asked
 * again for a minute; no answer is asked again next time).
 */
export function learnServerIdentity(ctx: IdentityDeps): Promise<ServerIdentity | undefined> {
  if (!ctx.config.DATABASE_URL) return Promise.resolve(undefined);
  const had = known.get(ctx.db);
  if (had) return Promise.resolve(had);
  const now = asking.get(ctx.db);
  if (now) return now;
  if (Date.now() - (unanswered.get(ctx.db) ?? -Infinity) < ASK_AGAIN_MS) return Promise.resolve(undefined);
  const ask = withDeadline(readServerIdentity(ctx.db), ctx.config.KILL_DB_TIMEOUT, 'the database (its identity)').then(
    (identity) => {
      known.set(ctx.db, identity);
      return identity;
    },
    (err: unknown) => {
      // The server refused (a PostgreSQL error code: the function revoked, missing): not asked again
      // for a while. No answer at all is asked again on the next call.
      if (sqlState(err) !== undefined) unanswered.set(ctx.db, Date.now());
      return undefined;
    },
  ).finally(() => asking.delete(ctx.db));
  asking.set(ctx.db, ask);
  return ask;
}

function sqlState(err: unknown): string | undefined {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
  }
  return undefined;
}

export const sameServer = (a: ServerIdentity, b: ServerIdentity): boolean => a.systemIdentifier === b.systemIdentifier && a.database === b.database;

export const describeServer = (s: ServerIdentity): string => `server ${s.systemIdentifier}, database ${s.database}`;
