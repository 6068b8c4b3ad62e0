// Owns reading one alert event by id: the event an email names (its details), stored as an id when
// the mail is queued and read when it is rendered.
import { eq } from 'drizzle-orm';
import type { Db } from '../client.js';
import { alertEvents, type AlertEvent } from '../schema/alerts.js';

export async function alertEventById(db: Db, id: number): Promise<AlertEvent | undefined> {
  const [row] = await db.select().from(alertEvents).where(eq(alertEvents.id, id)).limit(1);
  return row;
}
