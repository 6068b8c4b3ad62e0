// Owns the SQL of the on-call rows: the rotation (one row, id 1) and the overrides. The rotation's
// anchor is computed by src/services/oncall/store.ts before it is written.
import { and, desc, gt, lt, lte } from 'drizzle-orm';
import type { Db } from '../client.js';
import { oncallOverrides, oncallRotations, type OncallOverride, type OncallRotation } from '../schema/alerts.js';

export async function getRotation(db: Db): Promise<OncallRotation | null> {
  const [row] = await db.select().from(oncallRotations).limit(1);
  return row ?? null;
}

/** Writes the one rotation row, replacing the one there was. */
export async function upsertRotation(db: Db, values: Omit<OncallRotation, 'id'>): Promise<OncallRotation> {
  const row = { id: 1, ...values };
  const [saved] = await db.insert(oncallRotations).values(row)
    .onConflictDoUpdate({ target: oncallRotations.id, set: row }).returning();
  return saved!;
}

export async function addOverride(db: Db, input: { userId: string; startsAt: Date; endsAt: Date; actor: string; now: Date }): Promise<OncallOverride> {
  const [row] = await db.insert(oncallOverrides).values({
    userId: input.userId, startsAt: input.startsAt, endsAt: input.endsAt, createdBy: input.actor, createdAt: input.now,
  }).returning();
  return row!;
}

/** Overrides that overlap [from, to). */
export async function overridesBetween(db: Db, from: Date, to: Date): Promise<OncallOverride[]> {
  return db.select().from(oncallOverrides)
    .where(and(lt(oncallOverrides.startsAt, to), gt(oncallOverrides.endsAt, from)))
    .orderBy(desc(oncallOverrides.createdAt));
}

/**
 * Clears the overrides in force at `now` or starting later: one in force ends now (its row stays, as
 * the record of who held the pager until when); one not started yet is deleted. The rows as they were.
 */
export async function clearOverrides(db: Db, now: Date): Promise<OncallOverride[]> {
  return db.transaction(async (tx) => {
    const ended = await tx.update(oncallOverrides).set({ endsAt: now })
      .where(and(lte(oncallOverrides.startsAt, now), gt(oncallOverrides.endsAt, now))).returning();
    const dropped = await tx.delete(oncallOverrides).where(gt(oncallOverrides.startsAt, now)).returning();
    return [...ended, ...dropped].sort((a, b) => a.id - b.id);
  });
}
