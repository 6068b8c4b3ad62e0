// Owns the bot's migrations riding out a database that went away after it answered: the first
// statement is answered (what never answers is a configuration to check, said at once by the start's
// error), then a migration run that a cut, a reset or a stall ends is run again once the database
// answers (wait-for-database.ts), after pauses that grow from 1 s to 10 s. Running it again is safe:
// drizzle's migrator creates its schema and table only if they are missing, reads the last migration
// applied and applies the rest in one transaction (a cut rolls it back whole), and the migration lock
// is a session's, released by the server with the connection. Nothing reads the schema before it is
// current: no part has started, so /healthz and Slack are not served yet (503 "starting"; Slack's
// commands over HTTP are answered "starting"); POST /kill and Slack's /kill are (runtime.ts): they
// cancel on Kraken and save the halt, written once the migrations are applied.
import { sql } from 'drizzle-orm';
import { execute, type Database } from '../db/client.js';
import { untilDatabaseAnswers, type DatabaseWaitDeps } from './wait-for-database.js';

/** What is said while the migrations wait: nothing of this process is running yet, and how to kill meanwhile. */
const NOTHING_RUNS_YET = 'No part of the bot has started: nothing trades, and /healthz and Slack are served once the migrations are applied ' +
  '(503 "starting" until then; Slack over HTTP answers its commands "starting"). POST /kill answers meanwhile, and Slack\'s /kill over HTTP: ' +
  'it cancels on Kraken with this process\'s key and saves the halt in DATA_DIR, ' +
  'written to the database once the migrations are applied (`ctb kill` from a shell does the same). ' +
  'The migrations run in one transaction: the run the database dropped applied nothing.';

export type MigrationWaitDeps = Omit<DatabaseWaitDeps, 'probe' | 'during' | 'meanwhile'>;

/** Runs `run` (the migrations of `database`), again after each database outage once the database has answered. */
export async function migrateOrWait(database: Database, run: () => Promise<void>, deps: MigrationWaitDeps): Promise<void> {
  const probe = () => execute(database.db, sql`select 1`);
  // Not waited for: a database that never answered is a wrong URL, a bad login, a server down at the start.
  await probe();
  await untilDatabaseAnswers('the migrations', run, { ...deps, probe, during: 'the migrations', meanwhile: NOTHING_RUNS_YET });
}
