// Owns the SQL of `ctb alerts test`: putting a test's deliveries ahead of any backlog, reading how
// its deliveries went, recording the result per channel, and the latest result (the go-live audit's).
import { and, asc, desc, eq } from 'drizzle-orm';
import type { Db } from '../client.js';
import { alertDeliveries, alertEscalations, alertTests, type AlertDelivery, type AlertEscalation, type DeliveryKind } from '../schema/alerts.js';

/** Someone is waiting at the terminal: the group's pending deliveries go first in their lanes. */
export async function expediteTestDeliveries(db: Db, groupId: number): Promise<void> {
  await db.update(alertDeliveries).set({ priority: 9 }).where(and(eq(alertDeliveries.groupId, groupId), eq(alertDeliveries.status, 'pending')));
}

export async function escalationOfGroup(db: Db, groupId: number): Promise<AlertEscalation | undefined> {
  const [row] = await db.select().from(alertEscalations).where(eq(alertEscalations.groupId, groupId)).limit(1);
  return row;
}

/** A group's deliveries of one kind, first queued first (`limit: 1` is its first, not any). */
export async function deliveriesOfGroup(db: Db, input: { groupId: number; kind: DeliveryKind; limit?: number }): Promise<AlertDelivery[]> {
  const query = db.select().from(alertDeliveries).where(and(eq(alertDeliveries.groupId, input.groupId), eq(alertDeliveries.kind, input.kind)))
    .orderBy(asc(alertDeliveries.id));
  return input.limit === undefined ? await query : await query.limit(input.limit);
}

export async function recordAlertTest(db: Db, values: typeof alertTests.$inferInsert): Promise<number> {
  const [row] = await db.insert(alertTests).values(values).returning({ id: alertTests.id });
  return row!.id;
}

export async function latestAlertTest(db: Db): Promise<typeof alertTests.$inferSelect | null> {
  const [row] = await db.select().from(alertTests).orderBy(desc(alertTests.at), desc(alertTests.id)).limit(1);
  return row ?? null;
}
