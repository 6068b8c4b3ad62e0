// Whether a bot has ever run its engine on a database: the engine lease held now, or a heartbeat the
// engine wrote to bot_state (it stays after the lease is released). A kill that finds neither halted
// a database no bot reads (`ctb kill` run from another directory than the bot's: src/cli/commands/kill.ts).
import type { Db } from '../db/client.js';
import { readLease } from '../db/queries/engine-lease.js';
import { fetchBotState } from '../db/queries/bot-state-row.js';

export async function engineEverRan(db: Db): Promise<boolean> {
  const { lease } = await readLease(db);
  if (lease) return true;
  return ((await fetchBotState(db))?.engineHeartbeatAt ?? null) !== null;
}
