// Owns asking a PostgreSQL server which database it is: the cluster's system identifier (made by
// initdb, kept by its physical copies: a promoted standby is the same database under another host)
// and the current database's name. pg_control_system() is executable by any role on stock
// PostgreSQL; a service that revokes it answers with an error, and the caller goes without.
import { sql } from 'drizzle-orm';
import { execute, type Db } from '../client.js';

export interface ServerIdentity {
  systemIdentifier: string;
  database: string;
}

export async function readServerIdentity(db: Db): Promise<ServerIdentity> {
  const [row] = await execute<{ system_identifier: string; database: string }>(db,
    sql`select system_identifier::text as system_identifier, current_database() as database from pg_control_system()`);
  return { systemIdentifier: row!.system_identifier, database: row!.database };
}
