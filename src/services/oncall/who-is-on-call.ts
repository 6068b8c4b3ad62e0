// Owns the question the escalation and /oncall ask: who is on call at an instant, and who is next.
import type { Db } from '../../db/client.js';
import { onCallAt, type OnCallNow } from './schedule.js';
import { getRotation, overridesBetween } from './store.js';

export async function whoIsOnCall(db: Db, at: Date): Promise<OnCallNow> {
  const [rotation, overrides] = await Promise.all([getRotation(db), overridesBetween(db, at, new Date(at.getTime() + 1))]);
  return onCallAt(rotation, overrides, at);
}
