// Owns the kill's read of orders in flight: order intents still pending (their venue has not
// answered the order yet), oldest first, at most 50.
import { sql } from 'drizzle-orm';
import { execute, type Db } from '../client.js';
import { orderIntents } from '../schema/index.js';

export interface PendingIntentRow {
  id: number;
  clientOrderId: string;
  mode: string;
  symbol: string;
  side: string;
}

export async function pendingOrderIntents(db: Db): Promise<PendingIntentRow[]> {
  const rows = await execute<{ id: number | string; client_order_id: string; mode: string; symbol: string; side: string }>(db, sql`
    select id, client_order_id, mode, symbol, side from ${orderIntents} where status = 'pending' order by id limit 50`);
  return rows.map((r) => ({ id: Number(r.id), clientOrderId: r.client_order_id, mode: r.mode, symbol: r.symbol, side: r.side }));
}
