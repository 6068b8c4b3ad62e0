// Owns the on-call rows: the rotation (one row) and overrides. One function per use.
import { and, desc, gt, lt } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { oncallOverrides, oncallRotations, type OncallOverride, type OncallRotation } from '../../db/schema/alerts.js';
import { shiftStartAt } from './schedule.js';

export async function getRotation(db: Db): Promise<OncallRotation | null> {
  const [row] = await db.select().from(oncallRotations).limit(1);
  return row ?? null;
}

export async function saveRotation(db: Db, input: {
  members: string[];
  handoffWeekday: number;
  handoffTime: string;
  timeZone: string;
  now: Date;
  actor: string;
}): Promise<OncallRotation> {
  // members[0] is on call from the shift that contains "now"; later shifts follow the list.
  const anchorAt = shiftStartAt({ handoffWeekday: input.handoffWeekday, handoffTime: input.handoffTime, timeZone: input.timeZone }, input.now).toJSDate();
  const values = {
    id: 1, members: input.members, handoffWeekday: input.handoffWeekday, handoffTime: input.handoffTime,
    timeZone: input.timeZone, anchorAt, updatedAt: input.now, updatedBy: input.actor,
  };
  const [row] = await db.insert(oncallRotations).values(values)
    .onConflictDoUpdate({ target: oncallRotations.id, set: values }).returning();
  return row!;
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
