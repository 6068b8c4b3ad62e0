// Owns the arithmetic of a weekly rotation: when shifts start (a local weekday and time in the
// rotation's time zone, so handoffs follow daylight-saving changes) and whose shift it is. Pure
// functions over a rotation row; luxon does the time-zone calendar math.
import { DateTime } from 'luxon';
import type { OncallOverride, OncallRotation } from '../../db/schema/alerts.js';

const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;

export type RotationShape = Pick<OncallRotation, 'members' | 'handoffWeekday' | 'handoffTime' | 'timeZone' | 'anchorAt'>;

/** "mon 09:00" → { weekday: 1, time: '09:00' }, or an error message naming what is expected. */
export function parseHandoff(text: string): { weekday: number; time: string } | { error: string } {
  const m = /^\s*([a-z]{3})[a-z]*\s+(\d{1,2}):(\d{2})\s*$/i.exec(text);
  const day = m ? WEEKDAYS.indexOf(m[1]!.toLowerCase() as (typeof WEEKDAYS)[number]) : -1;
  const hour = m ? Number(m[2]) : NaN;
  const minute = m ? Number(m[3]) : NaN;
  if (!m || day < 0 || hour > 23 || minute > 59) {
    return { error: `expected a weekday and a 24-hour time such as "mon 09:00", got "${text}"` };
  }
  return { weekday: day + 1, time: `${String(hour).padStart(2, '0')}:${String(minute).padStart(2, '0')}` };
}

export function formatHandoff(weekday: number, time: string): string {
  return `${WEEKDAYS[weekday - 1] ?? '?'} ${time}`;
}

export function isTimeZone(zone: string): boolean {
  return DateTime.now().setZone(zone).isValid;
}

/** The start of the shift that contains `at`: the latest local handoff at or before it. */
export function shiftStartAt(r: Pick<RotationShape, 'handoffWeekday' | 'handoffTime' | 'timeZone'>, at: Date): DateTime {
  const local = DateTime.fromJSDate(at, { zone: r.timeZone });
  const [hour, minute] = r.handoffTime.split(':').map(Number) as [number, number];
  let start = local.set({ weekday: r.handoffWeekday as 1, hour, minute, second: 0, millisecond: 0 });
  if (start > local) start = start.minus({ weeks: 1 });
  return start;
}

function memberIndex(r: RotationShape, shiftStart: DateTime): number {
  const anchor = shiftStartAt(r, r.anchorAt);
  const weeks = Math.round(shiftStart.diff(anchor, 'weeks').weeks);
  const n = r.members.length;
  return ((weeks % n) + n) % n;
}

export interface Shift {
  userId: string;
  startsAt: Date;
  endsAt: Date;
}

/** Whose rotation shift contains `at` (ignoring overrides), or null for an empty rotation. */
export function scheduledShift(r: RotationShape, at: Date): Shift | null {
  if (r.members.length === 0) return null;
  const start = shiftStartAt(r, at);
  return { userId: r.members[memberIndex(r, start)]!, startsAt: start.toJSDate(), endsAt: start.plus({ weeks: 1 }).toJSDate() };
}

/** The next `count` rotation shifts from the one containing `from`. */
export function upcomingShifts(r: RotationShape, from: Date, count: number): Shift[] {
  if (r.members.length === 0) return [];
  const out: Shift[] = [];
  let start = shiftStartAt(r, from);
  for (let i = 0; i < count; i += 1) {
    out.push({ userId: r.members[memberIndex(r, start)]!, startsAt: start.toJSDate(), endsAt: start.plus({ weeks: 1 }).toJSDate() });
    start = start.plus({ weeks: 1 });
  }
  return out;
}

export interface OnCallNow {
  /** Who is paged first: the override holder, else the scheduled member; null when nobody is. */
  primary: string | null;
  via: 'override' | 'rotation' | 'nobody';
  /** successors[0]: who "next in rotation" pages when nobody has been paged yet. */
  next: string | null;
  /**
   * Everyone after the primary, in the order "next in rotation" tries them: while an override holds
   * the pager the scheduled member comes first (they are on call by the rotation and must not be
   * skipped, whether or not the holder is a member), then the members after the scheduled one in
   * rotation order. The primary is never in it.
   */
  successors: string[];
  shift: Shift | null;
  override: OncallOverride | null;
}

export function onCallAt(r: RotationShape | null, overrides: OncallOverride[], at: Date): OnCallNow {
  const t = at.getTime();
  const override = overrides
    .filter((o) => o.startsAt.getTime() <= t && t < o.endsAt.getTime())
    .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || b.id - a.id)[0] ?? null;
  const shift = r ? scheduledShift(r, at) : null;
  const primary = override?.userId ?? shift?.userId ?? null;
  const successors: string[] = [];
  if (r && shift) {
    const i = r.members.indexOf(shift.userId);
    for (let k = 0; k < r.members.length; k += 1) {
      const candidate = r.members[(i + k) % r.members.length]!;
      if (candidate !== primary) successors.push(candidate);
    }
  }
  return { primary, via: override ? 'override' : shift ? 'rotation' : 'nobody', next: successors[0] ?? null, successors, shift, override };
}
