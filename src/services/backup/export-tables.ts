// Owns exporting the database into a snapshot: every table of the schema (the ledger, the sign-off
// records, the command trail — whatever the schema holds today) as JSON lines, one file per table,
// read in one repeatable-read transaction so the tables agree with each other.
import type { Db } from '../../db/client.js';
import { schemaTables, tableJsonLines } from '../../db/queries/table-rows.js';
import type { SnapshotWriter } from './snapshot-writer.js';

export interface TableExport {
  table: string;
  rows: number;
  file: string;
}

export async function exportTables(db: Db, writer: SnapshotWriter): Promise<TableExport[]> {
  const out: TableExport[] = [];
  await db.transaction(
    async (tx) => {
      for (const { name, table } of schemaTables()) {
        const file = `db/${name}.jsonl`;
        const rows = await writer.writeLines(file, tableJsonLines(tx, table));
        out.push({ table: name, rows, file });
      }
    },
    { isolationLevel: 'repeatable read', accessMode: 'read only' },
  );
  return out;
}
