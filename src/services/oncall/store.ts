// Owns writing the rotation as the on-call schedule means it: members[0] is on call from the shift
// that contains "now", so the row's anchor is that shift's start. The statements, and the reads of
// the rotation and overrides that callers use from here, are in src/db/queries/oncall-rotation.ts.
import type { Db } from '../../db/client.js';
import { upsertRotation } from '../../db/queries/oncall-rotation.js';
import type { OncallRotation } from '../../db/schema/alerts.js';
import { shiftStartAt } from './schedule.js';

export { addOverride, clearOverrides, getRotation, overridesBetween } from '../../db/queries/oncall-rotation.js';

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
  return upsertRotation(db, {
    members: input.members, handoffWeekday: input.handoffWeekday, handoffTime: input.handoffTime,
    timeZone: input.timeZone, anchorAt, updatedAt: input.now, updatedBy: input.actor,
  });
}
