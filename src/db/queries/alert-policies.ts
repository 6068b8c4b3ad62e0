// Owns the SQL of the stored escalation policies (one row per severity; none stored means the
// configured default applies).
import type { Db } from '../client.js';
import { alertPolicies, type AlertPolicy } from '../schema/alerts.js';

export async function storedAlertPolicies(db: Db): Promise<AlertPolicy[]> {
  return db.select().from(alertPolicies);
}

export async function upsertAlertPolicy(db: Db, values: typeof alertPolicies.$inferInsert): Promise<AlertPolicy> {
  const [row] = await db.insert(alertPolicies).values(values).onConflictDoUpdate({ target: alertPolicies.severity, set: values }).returning();
  return row!;
}
