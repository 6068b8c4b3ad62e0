// Owns the SQL of the reconciliation's standing in bot_state: advancing reconciled_through and
// clearing the block, recording a block with its differences, and placing or lifting the halt that
// only reconciliation's own actor may lift (never while a kill's incident opened since that halt is open). Each write bumps the row's version.
import { and, eq, or, sql, type SQL } from 'drizzle-orm';
import { AUTOMATICALLY_LIFTED_BY } from '../../domain/trading-state.js';
import type { Db } from '../client.js';
import { botState, incidents, type BotState } from '../schema/index.js';

/** Moves reconciled_through forward to `through` (never back) and clears the block. */
export async function markReconciledThrough(db: Db, through: Date, now: Date): Promise<void> {
  await db.update(botState).set({
    reconciledThrough: sql`greatest(coalesce(${botState.reconciledThrough}, ${through.toISOString()}::timestamptz), ${through.toISOString()}::timestamptz)`,
    reconciliationBlocked: false, reconciliationDetails: null, version: sql`${botState.version} + 1`, updatedAt: now,
  }).where(eq(botState.id, 1));
}

/**
 * Lifts the halt only if `actor` placed it and no kill's incident opened at or after it is open;
 * whether it did. Judged in this one statement against the row: a kill takes the halt over
 * (haltForKill) in its own transaction, and an incident opened since the halt keeps it — the state a
 * database written before kills took halts over holds (the kill came after and left the halt
 * reconciliation's); only the operator's resume lifts a kill's halt. An incident opened before the
 * halt (left open on a bot no longer halted) is not this halt's: it does not keep it.
 */
export async function liftHaltPlacedBy(db: Db, actor: string, now: Date): Promise<boolean> {
  const lifted = await db.update(botState).set({ halted: false, haltedReason: null, haltedAt: null, haltedBy: null, version: sql`${botState.version} + 1`, updatedAt: now })
    .where(and(eq(botState.id, 1), eq(botState.halted, true), haltLiftableBy(actor))).returning({ id: botState.id });
  return lifted.length > 0;
}

/** On bot_state: the halt is `actor`'s and no kill's incident opened at or after it is open (liftHaltPlacedBy's test). */
export function haltLiftableBy(actor: string): SQL {
  const noKillSinceHalt = sql`not exists (select 1 from ${incidents} where ${incidents.status} = 'open' and ${incidents.openedAt} >= ${botState.haltedAt})`;
  return and(eq(botState.haltedBy, actor), noKillSinceHalt)!;
}

/** On bot_state: the halt is one something automatic would lift (today only reconciliation's own, when it passes). */
export function haltLiftedAutomatically(): SQL {
  return or(...AUTOMATICALLY_LIFTED_BY.map(haltLiftableBy))!;
}

/** Marks reconciliation blocked with these details. */
export async function markReconciliationBlocked(db: Db, details: Record<string, unknown>, now: Date): Promise<void> {
  await db.update(botState).set({
    reconciliationBlocked: true, reconciliationDetails: details, version: sql`${botState.version} + 1`, updatedAt: now,
  }).where(eq(botState.id, 1));
}

/** Halts unless something already halted the bot; whether this placed the halt. */
export async function placeHaltIfRunning(db: Db, halt: { reason: string; actor: string; now: Date }): Promise<boolean> {
  const placed = await db.update(botState).set({
    halted: true, haltedReason: halt.reason, haltedBy: halt.actor, haltedAt: halt.now, version: sql`${botState.version} + 1`, updatedAt: halt.now,
  }).where(and(eq(botState.id, 1), eq(botState.halted, false))).returning({ id: botState.id });
  return placed.length > 0;
}

/** Halts and blocks in one statement, only while the row asks for live and nothing halted it; the row written, or null. */
export async function haltLiveAndBlock(db: Db, halt: { reason: string; actor: string; now: Date; details: Record<string, unknown> }): Promise<BotState | null> {
  const [row] = await db.update(botState).set({
    halted: true, haltedReason: halt.reason, haltedBy: halt.actor, haltedAt: halt.now,
    reconciliationBlocked: true, reconciliationDetails: halt.details, version: sql`${botState.version} + 1`, updatedAt: halt.now,
  }).where(and(eq(botState.id, 1), eq(botState.mode, 'live'), eq(botState.halted, false))).returning();
  return row ?? null;
}
