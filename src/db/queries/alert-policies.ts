// Owns the SQL of the stored escalation policies (one row per severity). The pager stores its
// configured default for a severity that has none, once: the first writer wins, every replica then
// pages by that row.
import { eq } from 'drizzle-orm';
import type { Db } from '../client.js';
import { alertPolicies, type AlertPolicy } from '../schema/alerts.js';

export async function storedAlertPolicies(db: Db): Promise<AlertPolicy[]> {
  return db.select().from(alertPolicies);
}

/** Stores the row unless the severity has one already (the first writer wins); answers the stored row. */
export async function storeAlertPolicyOnce(db: Db, values: typeof alertPolicies.$inferInsert): Promise<AlertPolicy> {
  await db.insert(alertPolicies).values(values).onConflictDoNothing({ target: alertPolicies.severity });
  const [row] = await db.select().from(alertPolicies).where(eq(alertPolicies.severity, values.severity));
  return row!;
}

export async function upsertAlertPolicy(db: Db, values: typeof alertPolicies.$inferInsert): Promise<AlertPolicy> {
  const [row] = await db.insert(alertPolicies).values(values).onConflictDoUpdate({ target: alertPolicies.severity, set: values }).returning();
  return row!;
}
