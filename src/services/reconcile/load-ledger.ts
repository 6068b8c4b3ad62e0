// Owns reading what reconciliation needs from the ledger: live fills (paper fills never reach the
// exchange) and the time of the first one, which is where "legacy" exchange history ends.
import { asc, eq, min } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { fills } from '../../db/schema/index.js';
import type { LedgerFill } from './match.js';

export async function loadLiveFills(db: Db): Promise<LedgerFill[]> {
  const rows = await db.select().from(fills).where(eq(fills.mode, 'live')).orderBy(asc(fills.filledAt));
  return rows.map((r) => ({
    id: r.id, clientOrderId: r.clientOrderId, exchangeTradeId: r.exchangeTradeId, exchangeOrderId: r.exchangeOrderId,
    symbol: r.symbol, side: r.side, quantity: r.quantity, price: r.price, fee: r.fee, filledAt: r.filledAt,
  }));
}

export async function firstLiveFillAt(db: Db): Promise<Date | null> {
  const [row] = await db.select({ first: min(fills.filledAt) }).from(fills).where(eq(fills.mode, 'live'));
  return row?.first ?? null;
}
