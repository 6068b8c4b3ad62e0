// Owns the persisted engine state (bot_state row 1): mode, halted, entries paused by the risk guard.
// Every change bumps `version` so listeners (the engine, other replicas) notice within a poll.
import type { Clock } from '../clock.js';
import type { Db } from '../db/client.js';
import { createBotStateRow, fetchBotState, updateBotStateRow, writeEngineHeartbeat, writeEngineHeartbeatReturningRow, type BotStatePatch } from '../db/queries/bot-state-row.js';
import type { BotState } from '../db/schema/index.js';

export type Mode = 'paper' | 'live';

export async function getBotState(db: Db): Promise<BotState> {
  const row = await fetchBotState(db);
  if (row) return row;
  await createBotStateRow(db);
  return (await fetchBotState(db))!;
}

export async function updateBotState(db: Db, clock: Clock, patch: BotStatePatch): Promise<BotState> {
  await getBotState(db);
  return (await updateBotStateRow(db, patch, clock.now()))!;
}

/** The engine beats: on the database's clock, which every reader of its age shares. */
export async function touchHeartbeat(db: Db): Promise<void> {
  await writeEngineHeartbeat(db);
}

/** The engine beats and reads the state in one statement (its housekeeping's pass); creates the row if missing. */
export async function beatAndGetBotState(db: Db): Promise<BotState> {
  const row = await writeEngineHeartbeatReturningRow(db);
  if (row) return row;
  await createBotStateRow(db);
  return (await writeEngineHeartbeatReturningRow(db))!;
}

/**
 * The mode the engine actually trades in: live only when the process is armed (IS_LIVE=true)
 * AND the database says live AND the bot is not halted. Everything else is paper. The rule's one
 * home is domain/engine-mode.ts, which the engine's mode as an operator sees it builds on.
 */
export { effectiveMode } from '../domain/engine-mode.js';
