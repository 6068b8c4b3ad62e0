// A postgres.js client reads the server's array types once, on its first connection; the client's
// later connections skip that query (src/db/postgres-array-types.ts) and still read and send arrays. A one-shot
// client (the CLI's) never reads them: PostgreSQL's built-in array types are registered as
// postgres.js would register them after its read.
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectPostgres, type Database } from '../../../src/db/client.js';
import { readCommandLog } from '../../../src/db/queries/command-log.js';
import { writeCommandLogRows } from '../../../src/db/queries/shared-writes.js';
import { createPostgresTestDb, type TestDatabase } from '../../support/db.js';

interface RawClient {
  (strings: TemplateStringsArray, ...values: unknown[]): Promise<Array<Record<string, unknown>>>;
  array(values: unknown[], type?: number): unknown;
  unsafe(text: string, params: unknown[], opts?: { prepare: boolean }): Promise<Array<Record<string, unknown>>>;
  options: {
    debug?: unknown;
    parsers: Record<number, (((text: string) => unknown) & { array?: boolean }) | undefined>;
    serializers: Record<number, ((value: unknown) => unknown) | undefined>;
    shared: { typeArrayMap: Record<string, number> };
  };
}

const rawClient = (database: Database) => (database.db as unknown as { session: { client: RawClient } }).session.client;

/** Counts, by connection, the statements that read pg_type. */
function countTypeReads(client: RawClient): number[] {
  const reads: number[] = [];
  client.options.debug = (connection: number, text: string) => {
    if (/from pg_catalog\.pg_type/.test(text)) reads.push(connection);
  };
  return reads;
}

/** What a call returns or throws (its class and code: messages name variables), as text, so NaN and invalid dates compare too. */
function outcome(call: () => unknown): string {
  try {
    return inspect(call(), { depth: null });
  } catch (err) {
    return `throws ${(err as Error).constructor.name} ${String((err as { code?: unknown }).code)}`;
  }
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
    const client = rawClient(database);
    const typeReads = countTypeReads(client);
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

describe("a one-shot client's array types", () => {
  let testDb: TestDatabase;
  let oneShot: Database;
  let reading: Database;
  beforeAll(async () => {
    testDb = await createPostgresTestDb();
    oneShot = connectPostgres(testDb.url, { oneShot: true });
    reading = connectPostgres(testDb.url);
    await rawClient(reading)`select 1`; // it has read them (before, it could not send sql.array())
  });
  afterAll(async () => {
    await oneShot?.close();
    await reading?.close();
    await testDb?.close();
  });

  // Arrays of the types this project sends and reads, each way postgres.js meets one: a parameter
  // typed by the server (drizzle's sql.param() of an array), sql.array() of strings and of int4
  // (typed through the element's array type), and array columns in a result.
  const statement = (client: RawClient) =>
    client.unsafe(
      `select $1::text[] as texts, $2::text[]::timestamptz[] as stamps, $3 as typed, $4 as ints,
              array[1, 2, 3]::int4[] as int4s, array[5000000000]::int8[] as int8s, array[true, false]::bool[] as bools,
              array[1.5, null]::numeric[] as numerics, array['{"a": [1]}', 'null']::jsonb[] as jsons,
              array['2026-01-02T03:04:05.678Z']::timestamptz[] as times, array[array['a,b', 'c"d\\e'], array['{x}', null]]::text[] as nested,
              pg_backend_pid() as pid, pg_sleep(0.05)::text as slept`,
      [['a', 'b "c"', null], ['2026-01-02T03:04:05.678Z'], client.array(['x', 'y']), client.array([7, 8], 23)],
    );

  it('are never read, and every connection, from the first statement on, parses and sends them as a client that read them does', async () => {
    const client = rawClient(oneShot);
    const typeReads = countTypeReads(client);
    const first = await statement(client);
    const side = (await Promise.all(Array.from({ length: 4 }, () => statement(client)))).flat();
    const [expected] = await statement(rawClient(reading));
    const { pid: _pid, ...want } = expected!;
    expect(want.ints).toEqual([7, 8]); // control: the reading client sends and parses them
    expect(want.int4s).toEqual([1, 2, 3]);
    const rows = [...first, ...side];
    for (const { pid: _, ...row } of rows) expect(row).toEqual(want);
    expect(new Set(rows.map((r) => r.pid)).size).toBeGreaterThan(1); // several connections were opened
    expect(typeReads).toEqual([]);
  });

  it("writes the command log's several rows at once (text arrays to unnest) as the first statement", async () => {
    const fresh = connectPostgres(testDb.url, { oneShot: true });
    try {
      const typeReads = countTypeReads(rawClient(fresh));
      const at = new Date('2026-01-02T03:04:05.000Z');
      const row = (command: string) => ({ at: at.toISOString(), source: 'cli', actor: 'tester', command, args: 'a "quoted", {braced} arg', allowed: true, result: 'ok', details: '{"n": 1}' });
      await writeCommandLogRows(fresh.db, [row('one-shot first'), row('one-shot second')]);
      const { entries } = await readCommandLog(reading.db, { limit: 10 });
      const written = entries.filter((e) => String(e.command).startsWith('one-shot'));
      expect(written.map((e) => [e.command, e.args, e.allowed])).toEqual([
        ['one-shot first', 'a "quoted", {braced} arg', true],
        ['one-shot second', 'a "quoted", {braced} arg', true],
      ]);
      expect(typeReads).toEqual([]);
    } finally {
      await fresh.close();
    }
  });

  it("are postgres.js's own for every array type PostgreSQL is built with", async () => {
    const read = rawClient(reading);
    const mine = rawClient(oneShot).options;
    const builtIn = await read.unsafe(`
      select b.oid, b.typarray from pg_catalog.pg_type a join pg_catalog.pg_type b on b.oid = a.typelem
      where a.typcategory = 'A' and b.oid < 10000 and b.typarray < 10000 and b.typtype <> 'c'
      group by b.oid, b.typarray`, []);
    expect(builtIn.length).toBeGreaterThan(70);
    expect(mine.shared.typeArrayMap[25]).toBe(1009); // control: registered (postgres.js's client starts with none)
    const literals = [
      '{}', '{1,2,3}', '{-1.5,NULL,"2"}', '{"a b","c\\"d\\\\e",NULL,""}', '{{1,2},{3,4}}', '{t,f}', '{"{\\"a\\":[1]}",null}',
      '{"2026-01-02 03:04:05.678+00","2026-06-01"}', '{\\\\x0102}', '{(1,2),(0,0);(3,4),(1,1)}', '{"[1,2)"}',
    ];
    // postgres.js's array parser keeps its state between calls, and an element its parser refuses
    // (JSON.parse of json's) leaves that state for the next call: json arrays get valid JSON only.
    const jsonLiterals = ['{}', '{1,2,3}', '{{1,2},{3,4}}', '{"{\\"a\\":[1]}","\\"x,y\\"",null,"[true]"}'];
    const values: unknown[] = [[], [1, 2], ['a', 'b"c\\d', '', 'x,y{}'], [null, 'x'], [[1, 2], [3, 4]], [true, false], [new Date(0)], [{ a: [1] }], [Buffer.from([1, 2])], [undefined]];
    for (const row of builtIn) {
      const oid = Number(row.oid);
      const typarray = Number(row.typarray);
      expect(mine.shared.typeArrayMap[oid], `element type ${oid}`).toBe(read.options.shared.typeArrayMap[oid]);
      const mineParse = mine.parsers[typarray];
      const theirParse = read.options.parsers[typarray];
      expect(mineParse, `array type ${typarray}`).toBeTypeOf('function');
      expect(mineParse?.array, `array type ${typarray}`).toBe(theirParse?.array);
      for (const text of [114, 3802].includes(oid) ? jsonLiterals : literals) expect(outcome(() => mineParse!(text)), `${typarray} parsing ${text}`).toBe(outcome(() => theirParse!(text)));
      for (const value of values) {
        expect(outcome(() => mine.serializers[typarray]!(value)), `${typarray} sending ${inspect(value)}`).toBe(outcome(() => read.options.serializers[typarray]!(value)));
      }
    }
  });
});
