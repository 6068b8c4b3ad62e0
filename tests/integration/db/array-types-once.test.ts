// A postgres.js client reads the server's array types once, on its first connection; the client's
// later connections skip that query (src/db/client.ts) and still read and send arrays.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectPostgres, type Database } from '../../../src/db/client.js';
import { createPostgresTestDb, type TestDatabase } from '../../support/db.js';

interface RawClient {
  (strings: TemplateStringsArray, ...values: unknown[]): Promise<Array<Record<string, unknown>>>;
  array(values: unknown[]): unknown;
  options: { debug?: unknown };
}

describe("a client's array types", () => {
  let testDb: TestDatabase;
  let database: Database;
  beforeAll(async () => {
    testDb = await createPostgresTestDb();
    database = connectPostgres(testDb.url);
  });
  afterAll(async () => {
    await database?.close();
    await testDb?.close();
  });

  it('are read by the first connection only, and every connection parses and sends arrays', async () => {
    const client = (database.db as unknown as { session: { client: RawClient } }).session.client;
    const typeReads: number[] = [];
    client.options.debug = (connection: number, text: string) => {
      if (/from pg_catalog\.pg_type/.test(text)) typeReads.push(connection);
    };
    const one = () => client`select array[1, 2, 3]::int4[] as ints, ${client.array(['a', 'b'])}::text[] as texts, pg_backend_pid() as pid, pg_sleep(0.05)::text as slept`;
    // The first connection, as a command's first statement opens it (postgres.js can send an array
    // only once it has read the types, so not in the statement that opens its first connection);
    // then statements side by side, which open more connections.
    const first = await client`select array[1, 2, 3]::int4[] as ints, array['a', 'b']::text[] as texts, pg_backend_pid() as pid`;
    const side = (await Promise.all(Array.from({ length: 5 }, one))).flat();
    const rows = [...first, ...side];
    for (const row of rows) {
      expect(row.ints).toEqual([1, 2, 3]);
      expect(row.texts).toEqual(['a', 'b']);
    }
    // Control: several connections were opened (each would have read the types before).
    expect(new Set(rows.map((r) => r.pid)).size).toBeGreaterThan(1);
    expect(typeReads).toHaveLength(1);
  });
});
