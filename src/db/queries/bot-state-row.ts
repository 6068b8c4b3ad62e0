// Owns reading the bot_state row (id 1) as it is, without creating it (getBotState creates it), and
// locking it for the rest of a transaction: a mode switch takes it after the change-request rows,
// so a switch and a rollback racing it wait for each other, never deadlock.
import { eq } from 'drizzle-orm';
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
