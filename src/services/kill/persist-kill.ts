// The database half of a kill: halt and switch to paper (bot_state, version bumped so every
// process notices; the kill authors the halt, an earlier one's reason kept in its own), and open the incident with its checklist — in one transaction, so a kill is
// never half-written. Written in parallel with the exchange cancel (the halt is the fence that
// stops every process's orders), so the incident gets the cancel's report afterwards. Idempotent: the kill id is unique (a replayed pending kill or a
// Slack retry finds its incident), and a kill while an incident is open joins that incident.
import { cleanJson, cleanText } from '../../db/clean-text.js';
import type { Db } from '../../db/client.js';
import { createBotStateRow, lockBotState } from '../../db/queries/bot-state-row.js';
import { checklistItemsOf, insertChecklistItems } from '../../db/queries/kill-checklist.js';
import { claimKillReplay, haltForKill, incidentByKillId, insertIncident, openIncident, setIncidentCancelReport } from '../../db/queries/kill-incidents.js';
import type { Incident, IncidentChecklistItem } from '../../db/schema/index.js';
import { CHECKLIST } from '../../domain/incident-checklist.js';
import { AUTOMATICALLY_LIFTED_BY } from '../../domain/trading-state.js';
import { ENGINE_HALT_ACTOR } from '../engine-halt.js';

export interface KillRecord {
  killId: string;
  at: Date;
  actor: string;
  trigger: 'manual' | 'auto';
  reason: string;
  cancelReport: Record<string, unknown>;
}

export interface PersistOutcome {
  incident: Incident;
  /**
   * A kill was in force: an earlier kill's incident was still open and the bot halted by that kill.
   * An open incident on a bot not halted, or halted by someone else (reconciliation, the engine), is
   * joined (`joined`), but this kill is what halted it, or took that halt over (`tookOver`).
   */
  alreadyKilled: boolean;
  /** The halt that stood and this kill took over (its author now this kill's actor): someone else's than a kill in force. */
  tookOver: { by: string | null; reason: string | null } | null;
  /** An earlier kill's incident was still open: this kill joined it (halted or not before). */
  joined: boolean;
  /** This very kill (same id) was already written: a replay or a retry. */
  replayed: boolean;
  /** bot_state was already halted before this kill. */
  wasHalted: boolean;
  /**
   * Written by a replay (`replayBy` given): whether this replay is the one to announce the saved kill —
   * the first to write it, or one taking over an announcement its writer did not make within
   * ANNOUNCE_LEASE_MS (kill_replays). Absent for a kill writing its own halt.
   */
  announces?: boolean;
}

/**
 * How long the replay that wrote a saved kill has to announce it before any other replay takes the
 * announcement over: past its own Kraken cancel's bound and the follow-up's database deadlines.
 */
export const ANNOUNCE_LEASE_MS = 2 * 60_000;

export interface PersistOptions {
  /** A replay of a kill saved in DATA_DIR, by this process (host:pid): claims the kill_replays row in the same transaction. */
  replayBy?: string;
}

export async function persistKill(db: Db, record: KillRecord, opts: PersistOptions = {}): Promise<PersistOutcome> {
  // A reason PostgreSQL would refuse (a NUL) must never be why a halt is not written.
  const kill = { ...record, reason: cleanText(record.reason), actor: cleanText(record.actor), cancelReport: cleanJson(record.cancelReport) };
  return db.transaction(async (tx) => {
    await createBotStateRow(tx);
    const state = await lockBotState(tx);
    // Claimed under the bot_state lock, in the transaction that writes the halt: replays of one saved
    // kill in several processes queue on that lock, and exactly one of them is the one to announce it.
    const replay = opts.replayBy !== undefined
      ? { announces: await claimKillReplay(tx, { killId: kill.killId, by: opts.replayBy, leaseMs: ANNOUNCE_LEASE_MS }) } : {};
    const same = await incidentByKillId(tx, kill.killId);
    if (same) return { incident: same, alreadyKilled: true, tookOver: null, joined: true, replayed: true, wasHalted: state!.halted, ...replay };

    const wasHalted = state!.halted;
    const open = await openIncident(tx);
    // A halt is already this incident's kill's only while a kill of it authors it (the one that opened
    // it, or one that joined it since); any other halt (reconciliation's, the engine's) the kill takes
    // over, keeping its reason visible, so that no automatic lift of that other halt ever lifts the kill's.
    const killsHalt = wasHalted && open !== undefined && haltOfIncident(state!, open);
    if (!killsHalt || state!.mode !== 'paper') {
      const reason = wasHalted && !killsHalt ? `${kill.reason} ${earlierHalt(state!)}` : kill.reason;
      await haltForKill(tx, { takeOver: !killsHalt, reason, at: kill.at, actor: kill.actor });
    }
    const tookOver = wasHalted && !killsHalt ? { by: state!.haltedBy, reason: state!.haltedReason } : null;
    // Already killed only while the halt standing is that incident's kill's; any other this kill took over.
    if (open) return { incident: open, alreadyKilled: killsHalt, tookOver, joined: true, replayed: false, wasHalted, ...replay };

    const incident = await insertIncident(tx, { killId: kill.killId, openedAt: kill.at, openedBy: kill.actor, trigger: kill.trigger, reason: kill.reason, cancelReport: kill.cancelReport });
    await insertChecklistItems(tx, incident.id, CHECKLIST);
    return { incident, alreadyKilled: false, tookOver, joined: false, replayed: false, wasHalted, ...replay };
  });
}

/** Halts written by something other than a kill: the engine's, reconciliation's. */
const NOT_A_KILL: readonly string[] = [ENGINE_HALT_ACTOR, ...AUTOMATICALLY_LIFTED_BY];

/** The standing halt is a kill's of the open incident: the kill that opened it, or one that joined it since. */
function haltOfIncident(state: { haltedBy: string | null; haltedAt: Date | null }, open: Incident): boolean {
  if (state.haltedBy === open.openedBy) return true;
  return state.haltedBy !== null && !NOT_A_KILL.includes(state.haltedBy) && state.haltedAt !== null && state.haltedAt.getTime() >= open.openedAt.getTime();
}

/** What an earlier halt a kill takes over said: kept in the kill's reason, so no reason is lost. */
function earlierHalt(state: { haltedBy: string | null; haltedAt: Date | null; haltedReason: string | null }): string {
  const by = state.haltedBy ? ` by ${state.haltedBy}` : '';
  const at = state.haltedAt ? ` since ${state.haltedAt.toISOString()}` : '';
  return `(already halted${by}${at}${state.haltedReason ? `: ${state.haltedReason}` : ''})`;
}

/** The cancel's report, once known, on the incident this kill opened (a joined incident keeps its own). */
export async function recordCancelReport(db: Db, killId: string, cancelReport: Record<string, unknown>): Promise<void> {
  await setIncidentCancelReport(db, killId, cancelReport);
}

/** Used by tests and the watcher: the checklist of one incident, in order. */
export async function checklistOf(db: Db, incidentId: number): Promise<IncidentChecklistItem[]> {
  return checklistItemsOf(db, incidentId);
}
