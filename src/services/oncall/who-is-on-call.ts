// Owns the question the escalation, the alert permissions, the handover check and the on-call
// displays ask: who is on call now, and who is next. "Now" is the database's now(), the one clock
// every process shares (their own can be minutes apart): near a handoff, two replicas asking at the
// same moment get the same person, and inside a transaction it is that transaction's now().
import type { Db } from '../../db/client.js';
import { databaseNow } from '../../db/queries/database-clock.js';
import { onCallAt, type OnCallNow } from './schedule.js';
import { getRotation, overridesBetween } from './store.js';

export async function whoIsOnCall(db: Db): Promise<OnCallNow> {
  const [at, rotation] = await Promise.all([databaseNow(db), getRotation(db)]);
  const overrides = await overridesBetween(db, at, new Date(at.getTime() + 1));
  return onCallAt(rotation, overrides, at);
}
