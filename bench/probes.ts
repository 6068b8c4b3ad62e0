// What the benches that run ctb as a child process share: the machine's load as they print it, the
// median of a round's figures, a free local port, whether a bot on a port answers /healthz 200, and
// a PostgreSQL database that commits as the bot's does.
import { createServer, type AddressInfo } from 'node:net';
import { loadavg } from 'node:os';
import { sql } from 'drizzle-orm';
import { connectPostgres, execute } from '../src/db/client.js';
import { createPostgresTestDb, type TestDatabase } from '../tests/support/db.js';

/** The 1-, 5- and 15-minute load averages, two decimals each. */
export const load = (): string => loadavg().map((l) => l.toFixed(2)).join(' ');

/** The median (the mean of the two middle values for an even count). */
export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** A port nobody listens on now, on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

/** Whether a bot on `port` answers /healthz with 200 within 2 s. */
export async function healthzOk(port: number): Promise<boolean> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(2_000) });
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false;
  }
}

/**
 * A fresh migrated PostgreSQL database for a bench, committing as the bot's does: the tests' databases
 * do not wait for the WAL on commit (synchronous_commit = off for the whole database,
 * tests/support/db.ts), a setting the bot does not ship. It is taken away and the bench's connections
 * opened after, as are those of any `ctb` it runs on `url` (the bot's paper order and snapshot
 * statements turn it off themselves: src/db/async-commit.ts).
 */
export async function postgresAsShipped(): Promise<TestDatabase> {
  const test = await createPostgresTestDb();
  await execute(test.db, sql.raw(`alter database "${test.name}" reset synchronous_commit`));
  const database = connectPostgres(test.url, { oneShot: false });
  const [setting] = await execute<{ v: string }>(database.db, sql`select current_setting('synchronous_commit') as v`);
  if (setting?.v !== 'on') throw new Error(`bench: synchronous_commit is ${setting?.v} on the bench's connection, not PostgreSQL's default`);
  return { ...database, url: test.url, name: test.name, close: async () => { await database.close(); await test.close(); } };
}
