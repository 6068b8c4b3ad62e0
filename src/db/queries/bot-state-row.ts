// Owns the statements on the bot_state row (id 1): reading it (prepared once per database handle,
// for the badge and every mode check) and creating it when missing; the versioned update and the
// engine's heartbeat that services/bot-state.ts builds getBotState/updateBotState on; reading it as
// it is, without creating it; locking it for the rest of a transaction (a mode switch takes it after
// the change-request rows, so a switch and a rollback racing it wait for each other, never
// deadlock); the conditional updates that pause and resume new entries (one UPDATE each, so
// two racing actors record one of them, never a mix); and a halt that overwrites only a halt an automatic lift would lift.
import { and, eq, or, sql, type SQL } from 'drizzle-orm';
import type { Db } from '../client.js';
import { botState, type BotState } from '../schema/index.js';

// Read on every Slack request (the badge) and by every command that checks the mode: prepared once
// per database handle (one round trip, planned once per connection on PostgreSQL).
const stateQueries = new WeakMap<Db, { execute(): Promise<BotState[]> }>();

/** The row through the prepared statement; undefined before anything created it. */
export async function fetchBotState(db: Db): Promise<BotState | undefined> {
  let query = stateQueries.get(db);
  if (!query) {
    query = db.select().from(botState).where(eq(botState.id, 1)).prepare('bot_state_row');
    stateQueries.set(db, query);
  }
  const rows = await query.execute();
  return rows[0];
}

/** Creates the row with its defaults unless it exists. */
export async function createBotStateRow(db: Db): Promise<void> {
  await db.insert(botState).values({ id: 1 }).onConflictDoNothing();
}

export type BotStatePatch = Partial<Omit<BotState, 'id' | 'version' | 'updatedAt'>>;

/** Applies the patch and bumps the version (listeners notice within a poll); undefined if the row is missing. */
export async function updateBotStateRow(db: Db, patch: BotStatePatch, at: Date): Promise<BotState | undefined> {
  const [row] = await db.update(botState).set({ ...patch, version: sql`${botState.version} + 1`, updatedAt: at }).where(eq(botState.id, 1)).returning();
  return row;
}

/**
 * The engine's heartbeat (no version bump: nothing listens for it), at the database's now(): its age
 * is read on that clock too (engineHeartbeatAgeMs), by processes whose clocks may be minutes off the engine's.
 */
export async function writeEngineHeartbeat(db: Db): Promise<void> {
  await db.update(botState).set({ engineHeartbeatAt: sql`now()` }).where(eq(botState.id, 1));
}

/**
 * The heartbeat and the row as it leaves it, in one statement: the engine beats and reads the state
 * on each pass of its housekeeping (a round trip a second fewer than a beat and a read); undefined
 * without the row.
 */
export async function writeEngineHeartbeatReturningRow(db: Db): Promise<BotState | undefined> {
  const [row] = await db.update(botState).set({ engineHeartbeatAt: sql`now()` }).where(eq(botState.id, 1)).returning();
  return row;
}

/** How long ago the engine last beat, on the database's clock (ms); null before its first beat (or without the row). */
export async function engineHeartbeatAgeMs(db: Db): Promise<number | null> {
  const [row] = await db.select({ ageMs: heartbeatAgeMs }).from(botState).where(eq(botState.id, 1));
  return row?.ageMs === null || row?.ageMs === undefined ? null : Number(row.ageMs);
}

/** The heartbeat's age on the database's clock (ms), as a column of bot_state. */
export const heartbeatAgeMs = sql<number | null>`(extract(epoch from (now() - ${botState.engineHeartbeatAt})) * 1000)::float8`;

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

/**
 * Clears a pause only if entries are paused: the row as the update left it (a halt written since the
 * caller last read it included); undefined when they were not (someone resumed meanwhile).
 */
export async function clearEntriesPausedIfSet(db: Db, at: Date): Promise<BotState | undefined> {
  const [row] = await db.update(botState).set({
    entriesPaused: false, entriesPausedReason: null, entriesPausedBy: null, entriesPausedAt: null,
    version: sql`${botState.version} + 1`, updatedAt: at,
  }).where(and(eq(botState.id, 1), eq(botState.entriesPaused, true))).returning();
  return row;
}

/**
 * Halts unless a halt that waits for an operator stands: a compare-and-set in this one statement. Over
 * a bot not halted it writes `halt`; over a halt something automatic would lift (`liftable`, e.g.
 * reconciliation's) it takes that halt over, its author now `halt.by`, the earlier halt's author, time
 * and reason kept in the reason — "<reason> (already halted by X since T: R)" — so no automatic lift
 * lifts it and no reason is lost. Any other halt (a kill's, an operator's) keeps its author, reason and
 * time. The row written, or undefined when such a halt stands (or the row is missing).
 */
export async function haltOverLiftable(db: Db, halt: { reason: string; by: string; at: Date }, liftable: SQL): Promise<BotState | undefined> {
  const since = sql`to_char(${botState.haltedAt} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
  const earlier = sql`' (already halted by ' || coalesce(${botState.haltedBy}, 'an unrecorded actor') || coalesce(' since ' || ${since}, '') || coalesce(': ' || ${botState.haltedReason}, '') || ')'`;
  const [row] = await db.update(botState).set({
    halted: true, haltedReason: sql`case when ${botState.halted} then ${halt.reason}::text || ${earlier} else ${halt.reason}::text end`,
    haltedBy: halt.by, haltedAt: halt.at, version: sql`${botState.version} + 1`, updatedAt: halt.at,
  }).where(and(eq(botState.id, 1), or(eq(botState.halted, false), liftable))).returning();
  return row;
}
