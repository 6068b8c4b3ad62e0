// A PostgreSQL pool whose connections failed over and over while its database was away connects again
// within about a second once the database answers (RECONNECT_PAUSE_MAX_S in src/db/client.ts), not
// after postgres.js's own pause, which grows with the failures to 10–20 s: a saved kill, the alerts and
// the engine waited that long on a database that was back.
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { connectPostgres, execute } from '../../../src/db/client.js';
import { createPostgresTestDb } from '../../support/db.js';
import { startStallProxy } from '../../support/stall-proxy.js';

/** What `work` settled with, or `late` if it had not within `ms`. */
async function within<T>(work: Promise<T>, ms: number, late: string): Promise<T | string> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([work, new Promise<string>((resolve) => (timer = setTimeout(() => resolve(late), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

describe('a PostgreSQL pool after an outage', () => {
  it('answers within about a second of the database’s return, however often its connections failed meanwhile', async () => {
    const database = await createPostgresTestDb();
    const proxy = await startStallProxy();
    const pool = connectPostgres(proxy.urlFor(database.url), { max: 2 });
    try {
      await execute(pool.db, sql`select 1`);
      proxy.set('down');
      // Each query meets connections reset or closed without an answer: the pool's count of failures grows.
      let failed = 0;
      for (let i = 0; i < 12; i += 1) {
        failed += await execute(pool.db, sql`select 1`).then(() => 0, () => 1);
      }
      expect(failed).toBe(12);
      proxy.set('forward');
      const back = Date.now();
      expect(await within(execute(pool.db, sql`select 1 as one`).then((rows) => rows[0]), 5_000, 'no answer 5 s after the database was back')).toEqual({ one: 1 });
      expect(Date.now() - back).toBeLessThan(3_000);
    } finally {
      await pool.close();
      await proxy.close();
      await database.close();
    }
  });

});
