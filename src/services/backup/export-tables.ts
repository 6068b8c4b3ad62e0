// Owns exporting the database into a snapshot: every table of the schema (the ledger, the sign-off
// records, the command trail — whatever the schema holds today) as JSON lines, one file per table,
// read in one repeatable-read transaction so the tables agree with each other.
import { getTableConfig, PgTable } from 'drizzle-orm/pg-core';
import { is, sql } from 'drizzle-orm';
import { rowsOf, type Db } from '../../db/client.js';
import * as schema from '../../db/schema/index.js';
import type { SnapshotWriter } from './snapshot-writer.js';

const PAGE = 5_000;

export function schemaTables(): PgTable[] {
  return (Object.values(schema) as unknown[]).filter((v): v is PgTable => is(v, PgTable));
}

async function* tableLines(tx: Db, table: PgTable): AsyncGenerator<string> {
  const { name, primaryKeys, columns } = getTableConfig(table);
  const pk = primaryKeys[0]?.columns ?? columns.filter((c) => c.primary);
  const order = pk.length > 0 ? pk.map((c) => sql.identifier(c.name)) : columns.map((c) => sql.identifier(c.name));
  // row_to_json(...)::text keeps numeric values exactly as PostgreSQL prints them (no float round-trip).
  for (let offset = 0; ; offset += PAGE) {
    const rows = rowsOf<{ j: string }>(
      await tx.execute(
        sql`select row_to_json(t)::text as j from ${sql.identifier(name)} t order by ${sql.join(order, sql`, `)} limit ${PAGE} offset ${offset}`,
      ),
    );
    for (const row of rows) yield row.j;
    if (rows.length < PAGE) return;
  }
}

export interface TableExport {
  table: string;
  rows: number;
  file: string;
}

export async function exportTables(db: Db, writer: SnapshotWriter): Promise<TableExport[]> {
  const out: TableExport[] = [];
  await db.transaction(
    async (tx) => {
      for (const table of schemaTables()) {
        const name = getTableConfig(table).name;
        const file = `db/${name}.jsonl`;
        const rows = await writer.writeLines(file, tableLines(tx as unknown as Db, table));
        out.push({ table: name, rows, file });
      }
    },
    { isolationLevel: 'repeatable read', accessMode: 'read only' },
  );
  return out;
}
