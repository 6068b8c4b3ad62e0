// On-call rows placed on the database's clock, which whoIsOnCall reads (now()): a rotation whose
// handoff falls a given time from the database's now, and the passing of time for on-call (its
// handoff and overrides moved closer, as passEscalationTime does for the escalation's due times).
import { DateTime } from 'luxon';
import { eq, sql } from 'drizzle-orm';
import { execute, type Db } from '../../src/db/client.js';
import { databaseNow } from '../../src/db/queries/database-clock.js';
import { oncallRotations, type OncallRotation } from '../../src/db/schema/index.js';
import { saveRotation, getRotation } from '../../src/services/oncall/store.js';

const MIN = 60_000;

/**
 * Stores a weekly UTC rotation as `ctb oncall set` does, at the database's now(): its handoff is at
 * the whole minute `handoffInMs` from now (default 3 hours ago) and members[0] holds the shift that
 * contains now — from that handoff when it has passed, until it when it is still to come.
 */
export async function rotationOnDatabaseClock(db: Db, members: string[], opts: { handoffInMs?: number; actor?: string } = {}): Promise<{ rotation: OncallRotation; now: Date; handoffAt: Date }> {
  const now = await databaseNow(db);
  const handoffAt = new Date(Math.floor((now.getTime() + (opts.handoffInMs ?? -3 * 60 * MIN)) / MIN) * MIN);
  const handoff = DateTime.fromJSDate(handoffAt, { zone: 'UTC' });
  const rotation = await saveRotation(db, { members, handoffWeekday: handoff.weekday, handoffTime: handoff.toFormat('HH:mm'), timeZone: 'UTC', now, actor: opts.actor ?? 'test' });
  return { rotation, now, handoffAt };
}

/**
 * `ms` (whole minutes: a handoff is stored to the minute) pass for on-call: the rotation's handoff and
 * anchor and every override's start and end move `ms` earlier, as if the database's now() had moved on.
 */
export async function passOncallTime(db: Db, ms: number): Promise<void> {
  if (ms % MIN !== 0) throw new Error(`passOncallTime moves a handoff stored to the minute: ${ms} ms is not whole minutes`);
  await execute(db, sql`update oncall_overrides set starts_at = starts_at - ${ms} * interval '1 millisecond', ends_at = ends_at - ${ms} * interval '1 millisecond'`);
  const rotation = await getRotation(db);
  if (!rotation) return;
  const [hour, minute] = rotation.handoffTime.split(':').map(Number) as [number, number];
  const handoff = DateTime.fromJSDate(rotation.anchorAt, { zone: rotation.timeZone })
    .set({ weekday: rotation.handoffWeekday as 1, hour, minute, second: 0, millisecond: 0 }).minus({ milliseconds: ms });
  await db.update(oncallRotations).set({
    handoffWeekday: handoff.weekday, handoffTime: handoff.toFormat('HH:mm'), anchorAt: new Date(rotation.anchorAt.getTime() - ms),
  }).where(eq(oncallRotations.id, rotation.id));
}

/**
 * A weekly handoff as `ctb oncall set --handoff … --tz zone` takes it ("sun 09:31"), at the whole
 * minute `inMs` from the database's now() in `zone`; `at` is that instant.
 */
export async function handoffFromDatabaseNow(db: Db, inMs: number, zone: string): Promise<{ handoff: string; at: Date; now: Date }> {
  const now = await databaseNow(db);
  const at = new Date(Math.floor((now.getTime() + inMs) / MIN) * MIN);
  return { handoff: handoffText(at, zone), at, now };
}

/** The weekly handoff at `at` in `zone`, as `ctb oncall set --handoff` takes it and `/oncall` shows it ("sun 09:31"). */
export function handoffText(at: Date, zone: string): string {
  return DateTime.fromJSDate(at, { zone }).setLocale('en').toFormat('ccc HH:mm').toLowerCase();
}
