// The database a one-shot command's context is built on: opened (PostgreSQL or the embedded PGlite
// under DATA_DIR) and brought up to date. Its own module so the CLI can open it while the context's
// larger module is still loading (src/cli/with-context.ts), without a transport reaching src/db.
import type { Config } from '../config/env.js';
import { openDatabase, type Database } from '../db/client.js';
import { migrate } from '../db/migrate.js';

/**
 * Opens the configured database for a process that runs one command and exits, without serving it
 * to other processes, and migrates it (closed again if that fails).
 */
export async function openMigratedDatabase(config: Pick<Config, 'DATABASE_URL' | 'DATA_DIR'>): Promise<Database> {
  const database = await openDatabase({ databaseUrl: config.DATABASE_URL, dataDir: config.DATA_DIR, serve: false, oneShot: true });
  try {
    await migrate(database);
  } catch (err) {
    await database.close().catch(() => undefined);
    throw err;
  }
  return database;
}
