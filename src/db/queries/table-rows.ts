// Owns reading a whole table as JSON lines, page by page in primary-key order (for the backup's
// export). row_to_json(...)::text keeps numeric values exactly as PostgreSQL prints them (no float
// round-trip). Run it inside one repeatable-read transaction to get tables that agree.
import { getTableConfig, PgTable } from 'drizzle-orm/pg-core';
import { is, sql } from 'drizzle-orm';
import { rowsOf, type Db } from '../client.js';
import * as schema from '../schema/index.js';

const PAGE = 5_000;

/** Every table the schema declares, whatever it holds today, with its name. */
export function schemaTables(): Array<{ name: string; table: PgTable }> {
  return (Object.values(schema) as unknown[]).filter((v): v is PgTable => is(v, PgTable)).map((table) => ({ name: getTableConfig(table).name, table }));
}

export async function* tableJsonLines(db: Db, table: PgTable): AsyncGenerator<string> {
  const { name, primaryKeys, columns } = getTableConfig(table);
  const pk = primaryKeys[0]?.columns ?? columns.filter((c) => c.primary);
  const order = pk.length > 0 ? pk.map((c) => sql.identifier(c.name)) : columns.map((c) => sql.identifier(c.name));
  for (let offset = 0; ; offset += PAGE) {
    const rows = rowsOf<{ j: string }>(
      await db.execute(
        sql`select row_to_json(t)::text as j from ${sql.identifier(name)} t order by ${sql.join(order, sql`, `)} limit ${PAGE} offset ${offset}`,
      ),
    );
    for (const row of rows) yield row.j;
    if (rows.length < PAGE) return;
  }
}
