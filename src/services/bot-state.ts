// Owns the persisted engine state (bot_state row 1): mode, halted, entries paused by the risk guard.
// Every change bumps `version` so listeners (the engine, other replicas) notice within a poll.
import { eq, sql } from 'drizzle-orm';
import type { Clock } from '../clock.js';
import type { Db } from '../db/client.js';
import { botState, type BotState } from '../db/schema/index.js';

export type Mode = 'paper' | 'live';

// Read on every Slack request (the badge) and by every command that checks the mode: prepared once
// per database handle (one round trip, planned once per connection on PostgreSQL).
const stateQueries = new WeakMap<Db, { execute(): Promise<BotState[]> }>();

function selectState(db: Db): Promise<BotState[]> {
  let query = stateQueries.get(db);
  if (!query) {
    query = db.select().from(botState).where(eq(botState.id, 1)).prepare('bot_state_row');
    stateQueries.set(db, query);
  }
  return query.execute();
}

export async function getBotState(db: Db): Promise<BotState> {
  const rows = await selectState(db);
  if (rows[0]) return rows[0];
  await db.insert(botState).values({ id: 1 }).onConflictDoNothing();
  const created = await selectState(db);
  return created[0]!;
}

type StatePatch = Partial<Omit<BotState, 'id' | 'version' | 'updatedAt'>>;

export async function updateBotState(db: Db, clock: Clock, patch: StatePatch): Promise<BotState> {
  await getBotState(db);
  const rows = await db
    .update(botState)
    .set({ ...patch, version: sql`${botState.version} + 1`, updatedAt: clock.now() })
    .where(eq(botState.id, 1))
    .returning();
  return rows[0]!;
}

export async function touchHeartbeat(db: Db, clock: Clock): Promise<void> {
  await db.update(botState).set({ engineHeartbeatAt: clock.now() }).where(eq(botState.id, 1));
}

/**
 * The mode the engine actually trades in: live only when the process is armed (IS_LIVE=true)
 * AND the database says live AND the bot is not halted. Everything else is paper.
 */
export function effectiveMode(state: Pick<BotState, 'mode' | 'halted'>, armed: boolean): Mode {
  return armed && state.mode === 'live' && !state.halted ? 'live' : 'paper';
}
