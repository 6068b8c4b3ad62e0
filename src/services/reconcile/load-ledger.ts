// Owns reading what reconciliation needs from the ledger: live fills (paper fills never reach the
// exchange), oldest first — the first one's time is where "legacy" exchange history ends.
// One narrow prepared query (src/db/queries/reconcile-ledger.ts): only what the matcher and the
// balance check read, packed into one text per range of fill ids and read by hand into LedgerFill's
// shape (no ORM row mapping: at 100,000 fills that mapping and its garbage cost ~1 s; then the
// driver's work per row was about half of what was left). No ORDER BY: sorting 100,000 rows
// spilled to disk on the server (work_mem); the fills arrive in about id order, which is nearly time
// order, and are sorted here only when one pass finds them out of order.
import { type Db } from '../../db/client.js';
import { liveFillRows } from '../../db/queries/reconcile-ledger.js';
import type { LedgerFill } from './match.js';

export async function loadLiveFills(db: Db): Promise<LedgerFill[]> {
  const rows: LedgerFill[] = await liveFillRows(db);
  return inOrder(rows) ? rows : rows.sort(byTime);
}

const byTime = (a: LedgerFill, b: LedgerFill) => a.filledAtMs - b.filledAtMs || a.id - b.id;

/** Whether sorting by byTime would leave the rows as they are (the sort is stable). */
function inOrder(rows: readonly LedgerFill[]): boolean {
  for (let i = 1; i < rows.length; i++) if (byTime(rows[i - 1]!, rows[i]!) > 0) return false;
  return true;
}

/** The first live fill's time, from fills loaded by loadLiveFills (oldest first). */
export function firstFillAt(ledger: readonly LedgerFill[]): Date | null {
  const first = ledger[0];
  return first ? new Date(first.filledAtMs) : null;
}
