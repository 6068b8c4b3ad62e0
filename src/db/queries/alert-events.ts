// Owns reading one alert event by id: the event an email names (its details), stored as an id when
// the mail is queued and read when it is rendered.
import type { Db } from '../client.js';
import type { AlertEvent } from '../schema/alerts.js';

export async function alertEventById(db: Db, id: number): Promise<AlertEvent | undefined> {
  return db.query.alertEvents.findFirst({ where: (e, { eq }) => eq(e.id, id) });
}
