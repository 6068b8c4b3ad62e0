// Fault injection at the database, not in the modules: a Database on a test database's URL whose
// statements of a given text can be counted, held back or made to fail, for code that takes its
// database as a dependency (a context, a `db`). It replaces a vi.mock of the query function with
// the same statement seen where the code sends it, and leaves nothing in the process: the file
// closes the Database, and no module is replaced for the next file of a shared worker.
import { drizzle } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import type { Database, Db } from '../../src/db/client.js';

/** What a hook is told about the statement it runs for. */
export interface HookedStatement {
  sql: string;
}

/**
 * Statements whose text `match` finds: `before` runs before it is sent (a throw fails the statement,
 * as the database would, and it is never sent), `after` once its rows arrived and before the caller
 * gets them (a slow round trip, or something done meanwhile).
 */
export interface StatementHook {
  match: RegExp;
  before?: (statement: HookedStatement) => void | Promise<void>;
  after?: (statement: HookedStatement) => void | Promise<void>;
}

/** A pending postgres.js query: run when awaited; `values()` asks for its rows as arrays. */
interface PendingQuery extends PromiseLike<unknown> {
  values(): PendingQuery;
}

type Unsafe = (query: string, params?: unknown[], options?: unknown) => PendingQuery;

/**
 * postgres.js on `url` behind drizzle, as src/db/client.ts opens it, with `hooks` on the statements
 * drizzle sends (db.select/insert/update/delete and db.execute, outside a transaction: a transaction's
 * statements go through its own connection and are not hooked) and on those written as tagged
 * templates on the client itself (not on a connection it reserved). The first hook that matches applies.
 */
export function hookedDatabase(url: string, hooks: StatementHook[]): Database {
  const client = postgres(url, { max: 3, onnotice: () => {}, connect_timeout: 5 });
  const unsafe = client.unsafe.bind(client) as unknown as Unsafe;
  const hooked: Unsafe = (query, params, options) => withHook(query, unsafe(query, params, options));
  const withHook = (query: string, pending: PendingQuery): PendingQuery => {
    const hook = hooks.find((h) => h.match.test(query));
    if (!hook) return pending;
    let run: Promise<unknown> | undefined;
    const settle = () => (run ??= (async () => {
      await hook.before?.({ sql: query });
      const rows = await pending;
      await hook.after?.({ sql: query });
      return rows;
    })());
    const wrapped: PendingQuery = {
      values() {
        pending.values();
        return wrapped;
      },
      then(onFulfilled, onRejected) {
        return settle().then(onFulfilled, onRejected);
      },
    };
    return wrapped;
  };
  const proxied = new Proxy(client, {
    // A statement written as a tagged template on the client (client`select …`), as src/db/advisory-lock.ts asks its own.
    apply(target, thisArg, args: unknown[]) {
      const pending = Reflect.apply(target, thisArg, args) as PendingQuery;
      const strings = args[0];
      return Array.isArray(strings) && 'raw' in strings ? withHook(strings.join('$'), pending) : pending;
    },
    get(target, prop) {
      if (prop === 'unsafe') return hooked;
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { db: drizzle(proxied) as unknown as Db, kind: 'postgres', via: 'direct', close: () => client.end({ timeout: 1 }) };
}
