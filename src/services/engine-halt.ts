// Owns the engine's own halt (an exchange that refuses the key, an order refused as unauthorised or
// halted): written only over a bot that is not halted. A halt already standing — a kill's, an
// operator's, reconciliation's — keeps its author, reason and time, since what lifts a halt depends on
// who placed it; the engine's later cause is said in the log and the alert instead.
import type { Clock } from '../clock.js';
import type { Db } from '../db/client.js';
import { haltIfNotHalted, readBotStateRow } from '../db/queries/bot-state-row.js';
import { getBotState } from './bot-state.js';

export const ENGINE_HALT_ACTOR = 'system:engine';

/** The halt that stands, as the row says it. */
export interface StandingHalt {
  by: string | null;
  at: Date | null;
  reason: string | null;
}

/** The engine halted the bot now, or found it halted already (that halt stands, unchanged). */
export type EngineHalt = { placed: true } | { placed: false; standing: StandingHalt };

// A halt lifted between the compare-and-set and the read of what stands: the set is tried again.
const TRIES = 3;

/** Halts the bot for `cause` unless it is halted already: then says whose halt stands. */
export async function haltByEngine(db: Db, clock: Clock, cause: string, at: Date = clock.now()): Promise<EngineHalt> {
  await getBotState(db);
  for (let attempt = 1; ; attempt += 1) {
    if (await haltIfNotHalted(db, { reason: cause, by: ENGINE_HALT_ACTOR, at })) return { placed: true };
    const row = await readBotStateRow(db);
    if (row?.halted) return { placed: false, standing: { by: row.haltedBy, at: row.haltedAt, reason: row.haltedReason } };
    if (attempt >= TRIES) throw new Error(`the engine's halt was not written: the bot's halt was lifted at each of ${TRIES} tries (${cause})`);
  }
}

/** The standing halt in words: "halted by X since T (reason)". */
export function standingHaltText(h: StandingHalt): string {
  return `halted by ${h.by ?? 'an unrecorded actor'} since ${h.at?.toISOString() ?? 'an unrecorded time'}${h.reason ? ` (${h.reason})` : ''}`;
}

/** What the log and the alert say when the engine's cause comes while another halt stands (kept as it was). */
export function alreadyHaltedText(standing: StandingHalt, cause: string): string {
  return `Trading was already ${standingHaltText(standing)}; that halt stands unchanged, and the engine's later cause is: ${cause}`;
}
