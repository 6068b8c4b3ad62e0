// Owns the SQL of the go-live gate policy: its one row, read by every audit and every gate, and
// written by the process that holds the engine lease.
import { eq } from 'drizzle-orm';
import type { EngineLogScan } from '../../domain/engine-log-scan.js';
import type { Db } from '../client.js';
import { golivePolicy, type GolivePolicy } from '../schema/index.js';

export async function golivePolicyRow(db: Db): Promise<GolivePolicy | null> {
  const rows = await db.select().from(golivePolicy).limit(1);
  return rows[0] ?? null;
}

export async function upsertGolivePolicy(db: Db, values: Omit<typeof golivePolicy.$inferInsert, 'id'>): Promise<GolivePolicy> {
  const [row] = await db.insert(golivePolicy).values({ id: 1, ...values }).onConflictDoUpdate({ target: golivePolicy.id, set: values }).returning();
  return row!;
}

/** The engine's newest scan of its LOG_DIR, on the policy row its process recorded (none: nothing written). */
export async function setEngineLogScan(db: Db, logScan: EngineLogScan): Promise<boolean> {
  const rows = await db.update(golivePolicy).set({ logScan }).where(eq(golivePolicy.id, 1)).returning({ id: golivePolicy.id });
  return rows.length > 0;
}
