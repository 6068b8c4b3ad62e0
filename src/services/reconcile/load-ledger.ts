// Owns reading what reconciliation needs from the ledger: live fills (paper fills never reach the
// exchange), oldest first — the first one's time is where "legacy" exchange history ends.
// One narrow prepared query (src/db/queries/reconcile-ledger.ts): only the columns the matcher and the
// balance check read, named as LedgerFill names them, so the driver's rows are the result (no ORM row
// mapping: at 100,000 fills that mapping and its garbage cost ~1 s). No ORDER BY: sorting 100,000 rows
// spilled to disk on the server (work_mem); the rows arrive in about insertion order, which is nearly
// time order, and a stable sort of nearly sorted rows here is one pass.
import { type Db } from '../../db/client.js';
import { liveFillRows } from '../../db/queries/reconcile-ledger.js';
import type { LedgerFill } from './match.js';

export async function loadLiveFills(db: Db): Promise<LedgerFill[]> {
  const rows: LedgerFill[] = await liveFillRows(db);
  return rows.sort((a, b) => a.filledAtMs - b.filledAtMs || a.id - b.id);
}

/** The first live fill's time, from fills loaded by loadLiveFills (oldest first). */
export function firstFillAt(ledger: readonly LedgerFill[]): Date | null {
  const first = ledger[0];
  return first ? new Date(first.filledAtMs) : null;
}
