// Owns statements that may commit without waiting for the WAL flush. A statement includes
// `asyncCommitCte` (a CTE that sets synchronous_commit for its own transaction) and reads it.
// Used only for paper trading: the paper venue and the paper ledger share this one database's WAL, so
// a server crash can only lose a tail of them together — never an order without its intent. Live
// intents and fills always commit durably.
//
// On PostgreSQL the server's WAL writer flushes an asynchronous commit within wal_writer_delay, and the
// bot dying does not take the server with it. The embedded PGlite has no WAL writer and lives in the
// bot's process: an asynchronous commit stayed in its memory until some later durable commit, so a bot
// killed with kill -9 lost paper fills it had already logged. The embedded database is therefore
// started with PAPER_COMMIT_SETTING = on (db/pglite-start.ts), and these statements commit durably
// there: a fill is on disk before it is announced.
import { sql } from 'drizzle-orm';
import { PAPER_COMMIT_SETTING } from './pglite-start.js';

export const asyncCommitCte = sql`s as (select set_config('synchronous_commit', coalesce(current_setting(${sql.raw(`'${PAPER_COMMIT_SETTING}'`)}, true), 'off'), true) as async_commit)`;
