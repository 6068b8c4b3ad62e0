// Owns the bot's migrations riding out a database that went away after it answered: the first
// statement is answered (what never answers is a configuration to check, said at once by the start's
// error), then a migration run that a cut, a reset or a stall ends is run again once the database
// answers (wait-for-database.ts), after pauses that grow from 1 s to 10 s. Running it again is safe:
// drizzle's migrator creates its schema and table only if they are missing, reads the last migration
// applied and applies the rest in one transaction (a cut rolls it back whole), and the migration lock
// is a session's, released by the server with the connection. Nothing reads the schema before it is
// current: no part has started, so /healthz and Slack are not served yet (503 "starting"; Slack's
// commands over HTTP are answered "starting"); POST /kill and Slack's /kill over HTTP are (runtime.ts): they
// cancel on Kraken and save the halt, written once the migrations are applied.
import { sql } from 'drizzle-orm';
import { execute, type Database } from '../db/client.js';
import { untilDatabaseAnswers, type DatabaseWaitDeps } from './wait-for-database.js';

/** How Slack is reached by this process while the migrations wait: over HTTP (its /kill served meanwhile), Socket Mode, or not at all. */
export type SlackWhileWaiting = 'http' | 'socket' | 'none';

/** What is said while the migrations wait: nothing of this process is running yet, and how to kill meanwhile. */
export function nothingRunsYet(slack: SlackWhileWaiting): string {
  const slackNow = slack === 'http' ? '; Slack over HTTP answers its commands "starting"' : '';
  const slackKill = slack === 'http' ? ", and Slack's /kill over HTTP" : '';
  const socket = slack === 'socket' ? " Slack's /kill does not work until then: Socket Mode connects once the migrations are applied." : '';
  return 'No part of the bot has started: nothing trades, and /healthz and Slack are served once the migrations are applied '
    + `(503 "starting" until then${slackNow}). POST /kill answers meanwhile${slackKill}: `
    + 'it cancels on Kraken with this process\'s key and saves the halt in DATA_DIR, '
    + `written to the database once the migrations are applied (\`ctb kill\` from a shell does the same).${socket} `
    + 'The migrations run in one transaction: the run the database dropped applied nothing.';
}

export type MigrationWaitDeps = Omit<DatabaseWaitDeps, 'probe' | 'during' | 'meanwhile'> & {
  /** Whether Slack's /kill is served during the wait (runtime.ts registers its route over HTTP only); none when not given. */
  slack?: SlackWhileWaiting;
};

/** Runs `run` (the migrations of `database`), again after each database outage once the database has answered. */
export async function migrateOrWait(database: Database, run: () => Promise<void>, { slack, ...deps }: MigrationWaitDeps): Promise<void> {
  const probe = () => execute(database.db, sql`select 1`);
  // Not waited for: a database that never answered is a wrong URL, a bad login, a server down at the start.
  await probe();
  await untilDatabaseAnswers('the migrations', run, { ...deps, probe, during: 'the migrations', meanwhile: nothingRunsYet(slack ?? 'none') });
}
