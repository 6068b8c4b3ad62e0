// Owns statements that commit without waiting for the WAL flush. A statement includes
// `asyncCommitCte` (a CTE that sets synchronous_commit = off for its own transaction) and reads it.
// Used only for paper trading: the paper venue and the paper ledger share this one database's WAL, so
// a server crash can only lose a tail of them together — never an order without its intent. Live
// intents and fills always commit durably.
import { sql } from 'drizzle-orm';

export const asyncCommitCte = sql`s as (select set_config('synchronous_commit', 'off', true) as async_commit)`;
