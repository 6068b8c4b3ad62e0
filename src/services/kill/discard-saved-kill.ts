// Owns listing the kills saved in DATA_DIR (kill-pending.json) and dropping one an operator says will
// never be written: aimed at a database that will never answer again (decommissioned, moved), it keeps
// every process reading that DATA_DIR halted for ever. Dropping it forgets a pending database write,
// nothing else: the cancels on Kraken it stood for were sent when it was made, no halt is lifted (a
// halted bot stays halted until an operator resumes it), and no order is cancelled less. Refused for a
// kill still running (it writes its own entry), for one aimed at this configuration's database (it is
// written, not dropped, once that database answers), and for a file that cannot be read (dropping the
// stand-in would delete whatever kills it holds). A reason is required; the caller records it.
import { AppError } from '../../errors.js';
import { describeServer, sameServer, type ServerIdentity } from './database-identity.js';
import { killTargetOf, sameKillTarget, type KillTargetConfig } from './kill-target.js';
import { discardPendingKill, isUnreadablePendingKill, pendingKillPath, readPendingKills, writtenByItsKill, type PendingKill } from './pending-kill.js';

export interface SavedKillView {
  killId: string;
  at: string;
  actor: string;
  reason: string;
  /** The database it was aimed at (absent: saved by an older version, written by any process). */
  target: string | null;
  server: ServerIdentity | null;
  /** Whether it is this configuration's database's to write (then it is written, never discarded). */
  aimedHere: boolean;
  /**
   * What decides `aimedHere`: the servers' identities (both known), the names (kill-target.ts) when
   * either is unknown — the kill never reached its database (a shell's kill while it did not answer),
   * or this one did not say now — or nothing (saved by an older version: any database).
   */
  decidedBy: 'server' | 'name' | 'any';
  /** Its kill is still running (host:pid) and writes it itself. */
  runningIn: string | null;
  /** What the database did when the kill could not write it. */
  databaseError: string | null;
  /** Its cancel on Kraken was not confirmed clear: writing it would hand the cancel on as a follow-up. */
  krakenFollowUp: boolean;
}

export interface SavedKills {
  file: string;
  /** This configuration's database, named as a saved kill names it. */
  thisDatabase: string;
  thisServer: ServerIdentity | null;
  kills: SavedKillView[];
}

export interface DiscardedKill extends SavedKills {
  ok: true;
  discarded: SavedKillView;
  discardReason: string;
  by: string;
}

/** The reason's longest accepted length: a sentence, not a pasted log. */
export const DISCARD_REASON_MAX = 500;

function view(kill: PendingKill, ours: string, ourServer: ServerIdentity | undefined): SavedKillView {
  const decidedBy = kill.target === undefined ? 'any' : kill.server && ourServer ? 'server' : 'name';
  const aimedHere = kill.target === undefined || (kill.server && ourServer ? sameServer(kill.server, ourServer) : sameKillTarget(kill.target, ours));
  return {
    killId: kill.killId, at: kill.at, actor: kill.actor, reason: kill.reason, target: kill.target ?? null, server: kill.server ?? null, aimedHere, decidedBy,
    runningIn: writtenByItsKill(kill) && kill.owner ? `${kill.owner.host}:${kill.owner.pid}` : null,
    databaseError: kill.database?.error ?? null, krakenFollowUp: kill.krakenFollowUp === true,
  };
}

/** The saved kills, read from DATA_DIR alone (no database needed); `ourServer` when the database said which server it is. */
export function listSavedKills(config: KillTargetConfig, ourServer?: ServerIdentity): SavedKills {
  const ours = killTargetOf(config);
  return {
    file: pendingKillPath(config.DATA_DIR), thisDatabase: ours, thisServer: ourServer ?? null,
    kills: readPendingKills(config.DATA_DIR).map((k) => view(k, ours, ourServer)),
  };
}

export async function discardSavedKill(
  config: KillTargetConfig, input: { killId: string; reason: string; by: string; ourServer?: ServerIdentity | undefined },
): Promise<DiscardedKill> {
  const reason = input.reason.trim();
  if (reason === '') {
    throw new AppError('usage', 'discard_reason_required',
      'A reason is required to discard a saved kill: --reason "why it will never be written" (for example "database db1 decommissioned; the bot now runs on db2").');
  }
  if (reason.length > DISCARD_REASON_MAX) throw new AppError('usage', 'discard_reason_too_long', `--reason: expected at most ${DISCARD_REASON_MAX} characters, got ${reason.length}.`);
  const saved = listSavedKills(config, input.ourServer);
  const ids = saved.kills.map((k) => k.killId);
  if (ids.some(isUnreadablePendingKill)) {
    throw new AppError('conflict', 'saved_kills_unreadable',
      `${saved.file} cannot be read: no saved kill can be discarded from it (the kills it holds are not known). Nothing was dropped.`,
      { hint: 'Read the file: repair it, or move it aside once every kill it holds is written or known to be unwanted. Every process reading this DATA_DIR stays halted meanwhile.' });
  }
  const kill = saved.kills.find((k) => k.killId === input.killId);
  if (!kill) {
    throw new AppError('usage', 'saved_kill_not_found', ids.length === 0
      ? `No kill is saved in ${saved.file}: nothing to discard.`
      : `No saved kill ${JSON.stringify(input.killId.slice(0, 80))} in ${saved.file}; expected one of: ${ids.join(', ')} (ctb kill saved lists them).`);
  }
  if (kill.runningIn) {
    throw new AppError('conflict', 'saved_kill_running',
      `The saved kill ${kill.killId} is still being written by its kill, running in ${kill.runningIn}: it is not discarded. Nothing was dropped.`);
  }
  if (kill.aimedHere) {
    const aim = kill.target === null ? 'saved by an older version that named no database, so any process writes it'
      : `aimed at this configuration's database (${saved.thisDatabase}${kill.server && saved.thisServer ? `, ${describeServer(saved.thisServer)}` : ''})`;
    throw new AppError('conflict', 'saved_kill_aimed_here',
      `The saved kill ${kill.killId} is ${aim}: it is written there, not discarded, once that database answers. Nothing was dropped.`,
      { hint: 'Run ctb self-heal to write it now. Only a kill aimed at a database that will never answer again is discarded, with the configuration of the bot that reads this DATA_DIR.' });
  }
  await discardPendingKill(config.DATA_DIR, kill.killId);
  return { ...saved, kills: saved.kills.filter((k) => k.killId !== kill.killId), ok: true, discarded: kill, discardReason: reason, by: input.by };
}
