// Owns reading the database's clock: the one clock every process (bot, web, worker, a `ctb` shell)
// shares, whose own clocks can be minutes apart. A moment that decides something across processes
// (an expiry, a due time, when a step was taken) is written and judged on it.
import { sql } from 'drizzle-orm';
import { execute, type Db } from '../client.js';

/**
 * The database's now(), to the millisecond. Inside a transaction it is the moment every statement of
 * that transaction reads as now(), so what is computed from it agrees with what the SQL judges.
 */
export async function databaseNow(db: Db): Promise<Date> {
  const [row] = await execute<{ now: string }>(db, sql`select to_char(now() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as now`);
  return new Date(row!.now);
}
