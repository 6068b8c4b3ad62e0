// Owns the engine's own halt (an exchange that refuses the key, an order refused as unauthorised or
// halted), which only an operator's resume lifts: written over a bot that is not halted, or taking over
// a halt that something automatic would lift (reconciliation's), the earlier halt's reason kept in its
// own. A kill's or an operator's halt keeps its author, reason and time, since what lifts a halt
// depends on who placed it; the engine's later cause is said in the log and the alert instead.
import type { Clock } from '../clock.js';
import type { Db } from '../db/client.js';
import { haltOverLiftable, readBotStateRow } from '../db/queries/bot-state-row.js';
import { haltLiftedAutomatically } from '../db/queries/reconcile-state.js';
import { AUTOMATICALLY_LIFTED_BY } from '../domain/trading-state.js';
import { getBotState } from './bot-state.js';

export const ENGINE_HALT_ACTOR = 'system:engine';

/** The halt that stands, as the row says it. */
export interface StandingHalt {
  by: string | null;
  at: Date | null;
  reason: string | null;
}

/**
 * The engine halted the bot now — over a bot not halted (`tookOver` null), or taking over a halt an
 * automatic lift would have lifted (`tookOver`: that halt, as kept in the new reason) — or found a halt
 * that waits for an operator standing (it stands, unchanged).
 */
export type EngineHalt = { placed: true; tookOver: string | null } | { placed: false; standing: StandingHalt };

// A halt lifted (or an automatically lifted one placed) between the compare-and-set and the read of
// what stands: the set is tried again.
const TRIES = 3;

/** Halts the bot for `cause` unless a halt that waits for an operator stands: then says whose halt stands. */
export async function haltByEngine(db: Db, clock: Clock, cause: string, at: Date = clock.now()): Promise<EngineHalt> {
  await getBotState(db);
  for (let attempt = 1; ; attempt += 1) {
    const written = await haltOverLiftable(db, { reason: cause, by: ENGINE_HALT_ACTOR, at }, haltLiftedAutomatically());
    // The statement keeps the taken-over halt after the cause, in the reason: "<cause> (already halted by …)".
    if (written) return { placed: true, tookOver: written.haltedReason !== cause ? (written.haltedReason ?? '').slice(cause.length + 1) : null };
    const row = await readBotStateRow(db);
    const automatic = row?.haltedBy != null && AUTOMATICALLY_LIFTED_BY.includes(row.haltedBy);
    if (row?.halted && (!automatic || attempt >= TRIES)) return { placed: false, standing: { by: row.haltedBy, at: row.haltedAt, reason: row.haltedReason } };
    if (attempt >= TRIES) throw new Error(`the engine's halt was not written: the bot's halt was lifted at each of ${TRIES} tries (${cause})`);
  }
}

/** What the log and the alert say when the engine halted the bot: `title` is its cause as the alert words it. */
export function engineHaltedText(halt: { tookOver: string | null }, title: string): string {
  return halt.tookOver === null ? `Trading halted: ${title}`
    : `Trading halted: ${title} ${halt.tookOver}; the engine's halt takes that one over, so no automatic lift (reconciliation passing) lifts it: only an operator's resume does`;
}

/** The standing halt in words: "halted by X since T (reason)". */
export function standingHaltText(h: StandingHalt): string {
  return `halted by ${h.by ?? 'an unrecorded actor'} since ${h.at?.toISOString() ?? 'an unrecorded time'}${h.reason ? ` (${h.reason})` : ''}`;
}

/** What the log and the alert say when the engine's cause comes while another halt stands (kept as it was). */
export function alreadyHaltedText(standing: StandingHalt, cause: string): string {
  return `Trading was already ${standingHaltText(standing)}; that halt stands unchanged, and the engine's later cause is: ${cause}`;
}
