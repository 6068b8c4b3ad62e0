// Owns the SQL of risk_events, the risk guard's record: a breach that paused entries or was
// reported to the kill switch, and an operator clearing a pause. Amounts are stored exact (text).
import { desc, eq } from 'drizzle-orm';
import type { Db } from '../client.js';
import { riskEvents } from '../schema/index.js';

export type RiskEvent = typeof riskEvents.$inferSelect;

export async function insertRiskEvent(db: Db, values: typeof riskEvents.$inferInsert): Promise<void> {
  await db.insert(riskEvents).values(values);
}

/** The newest risk event, or the newest with this action. */
export async function latestRiskEvent(db: Db, action?: string): Promise<RiskEvent | undefined> {
  const rows = await db.select().from(riskEvents)
    .where(action === undefined ? undefined : eq(riskEvents.action, action))
    .orderBy(desc(riskEvents.id)).limit(1);
  return rows[0];
}
