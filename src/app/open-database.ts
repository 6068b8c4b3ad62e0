// The configured database (PostgreSQL, or the embedded PGlite under DATA_DIR) opened for a process
// and, when asked, brought up to date: one way to do it for the running bot (buildAppContext) and a
// one-shot command (src/cli/with-context.ts). Its own module so the CLI can open the database while
// the context's larger module is still loading, without a transport reaching src/db.
import type { Config } from '../config/env.js';
import { openDatabase, type Database } from '../db/client.js';
import { migrate, type MigrateOptions } from '../db/migrate.js';

export interface OpenConfiguredOptions {
  /** Run the migrations before handing it out (closed again if that fails). */
  migrate: boolean;
  /** Serve the embedded database to other processes (the running bot does). */
  serve?: boolean | undefined;
  /** The `ctb start` role of the serving process (named to a second `ctb start` it refuses). */
  role?: string | undefined;
  /** The process runs one command and exits (ConnectOptions.oneShot). */
  oneShot?: boolean | undefined;
  /** Told of a wait for another process's migration of the same database (MigrateOptions.onWait). */
  onMigrationWait?: MigrateOptions['onWait'];
  /** Runs the migrations (`run`), e.g. again after the database went away (the bot's start: migrate-or-wait.ts); once by default. */
  migrating?: ((database: Database, run: () => Promise<void>) => Promise<void>) | undefined;
}

export async function openConfiguredDatabase(
  config: Pick<Config, 'DATABASE_URL' | 'DATA_DIR' | 'PGLITE_IDLE_IN_TRANSACTION'>,
  opts: OpenConfiguredOptions,
): Promise<Database> {
  const database = await openDatabase({
    databaseUrl: config.DATABASE_URL,
    dataDir: config.DATA_DIR,
    serve: opts.serve ?? false,
    idleInTransactionMs: config.PGLITE_IDLE_IN_TRANSACTION,
    ...(opts.role === undefined ? {} : { role: opts.role }),
    ...(opts.oneShot ? { oneShot: true } : {}),
  });
  if (!opts.migrate) return database;
  try {
    const run = () => migrate(database, opts.onMigrationWait ? { onWait: opts.onMigrationWait } : {});
    await (opts.migrating ? opts.migrating(database, run) : run());
  } catch (err) {
    await database.close().catch(() => undefined);
    throw err;
  }
  return database;
}
