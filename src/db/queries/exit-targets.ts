// Owns reading the trade an operator's exit names (`/exit 12`, `ctb exit 12`); the open trades of
// `/exit all` are trade-views.ts' openTradesById, the same list `ctb trades` shows.
import { eq } from 'drizzle-orm';
import type { Db } from '../client.js';
import { trades, type Trade } from '../schema/index.js';

export async function tradeById(db: Db, id: number): Promise<Trade | undefined> {
  const [trade] = await db.select().from(trades).where(eq(trades.id, id));
  return trade;
}
