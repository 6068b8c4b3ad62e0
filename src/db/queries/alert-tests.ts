// Owns the SQL of `ctb alerts test`: putting a test's deliveries ahead of any backlog, reading how
// its deliveries went, recording the result per channel, and the latest result (the go-live audit's).
import { and, eq } from 'drizzle-orm';
import type { Db } from '../client.js';
import { alertDeliveries, alertTests, type AlertDelivery, type DeliveryKind } from '../schema/alerts.js';

/** Someone is waiting at the terminal: the group's pending deliveries go first in their lanes. */
export async function expediteTestDeliveries(db: Db, groupId: number): Promise<void> {
  await db.update(alertDeliveries).set({ priority: 9 }).where(and(eq(alertDeliveries.groupId, groupId), eq(alertDeliveries.status, 'pending')));
}

export async function escalationOfGroup(db: Db, groupId: number) {
  return db.query.alertEscalations.findFirst({ where: (e, { eq: is }) => is(e.groupId, groupId) });
}

export async function deliveriesOfGroup(db: Db, input: { groupId: number; kind: DeliveryKind; limit?: number }): Promise<AlertDelivery[]> {
  const query = db.select().from(alertDeliveries).where(and(eq(alertDeliveries.groupId, input.groupId), eq(alertDeliveries.kind, input.kind)));
  return input.limit === undefined ? await query : await query.limit(input.limit);
}

export async function recordAlertTest(db: Db, values: typeof alertTests.$inferInsert): Promise<number> {
  const [row] = await db.insert(alertTests).values(values).returning({ id: alertTests.id });
  return row!.id;
}

export async function latestAlertTest(db: Db) {
  return (await db.query.alertTests.findFirst({ orderBy: (t, { desc }) => [desc(t.at), desc(t.id)] })) ?? null;
}
