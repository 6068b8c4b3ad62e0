// Owns the cheapest question a database can answer: does it answer at all (self-heal, /metrics).
import { sql } from 'drizzle-orm';
import { execute, type Db } from '../client.js';

export async function pingDatabase(db: Db): Promise<void> {
  await execute(db, sql`select 1 as up`);
}
