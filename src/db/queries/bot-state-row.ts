// Owns statements on the bot_state row (id 1) beside getBotState/updateBotState: reading it as it
// is, without creating it; locking it for the rest of a transaction (a mode switch takes it after
// the change-request rows, so a switch and a rollback racing it wait for each other, never
// deadlock); and the conditional updates that pause and resume new entries (one UPDATE each, so
// two racing actors record one of them, never a mix).
import { and, eq, sql } from 'drizzle-orm';
import type { Db } from '../client.js';
import { botState, type BotState } from '../schema/index.js';

/** The row, locked; undefined only if it was never created (call getBotState first). */
export async function lockBotState(db: Db): Promise<BotState | undefined> {
  const [state] = await db.select().from(botState).where(eq(botState.id, 1)).for('update');
  return state;
}

/** The row as stored; undefined before anything wrote it. */
export async function readBotStateRow(db: Db): Promise<BotState | undefined> {
  const [row] = await db.select().from(botState).where(eq(botState.id, 1));
  return row;
}

/** Pauses entries only if they are not paused; the updated row, or undefined when they already were. */
export async function setEntriesPausedIfNot(db: Db, input: { by: string; reason: string | null; at: Date }): Promise<BotState | undefined> {
  const [row] = await db.update(botState).set({
    entriesPaused: true, entriesPausedReason: input.reason, entriesPausedBy: input.by, entriesPausedAt: input.at,
    version: sql`${botState.version} + 1`, updatedAt: input.at,
  }).where(and(eq(botState.id, 1), eq(botState.entriesPaused, false))).returning();
  return row;
}

/** Clears a pause only if entries are paused; false when they were not (someone resumed meanwhile). */
export async function clearEntriesPausedIfSet(db: Db, at: Date): Promise<boolean> {
  const rows = await db.update(botState).set({
    entriesPaused: false, entriesPausedReason: null, entriesPausedBy: null, entriesPausedAt: null,
    version: sql`${botState.version} + 1`, updatedAt: at,
  }).where(and(eq(botState.id, 1), eq(botState.entriesPaused, true))).returning({ id: botState.id });
  return rows.length > 0;
}
