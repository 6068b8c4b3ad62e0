// Owns the words and the reading of a live approval withdrawn because the engine took its lease
// unarmed. Live needs an unbroken chain: armed (IS_LIVE=true in the engine's process) and approved
// (two approvers, recorded in the database). An engine that takes the lease without IS_LIVE breaks
// it: it trades paper, and were bot_state left saying live, its next armed restart would trade LIVE on
// the old approval, with no new sign-off. So the holder records the switch to paper itself, as a
// switched request by WITHDRAWAL_ACTOR; the status views read that last switch back to say why the
// mode is paper. Pure.

/** Who records the withdrawal: the engine lease's holder, as a system actor. */
export const WITHDRAWAL_ACTOR = 'system:engine-lease';

/** The alert's fingerprint: one group however many times the chain is broken. */
export const WITHDRAWAL_FINGERPRINT = 'mode-live-withdrawn-unarmed';

/** The engine that took the lease: its holder id (host:pid:nonce, so the host is named once), and when (the database's clock). */
export interface UnarmedHolder {
  holderId: string;
  at: Date;
}

/** Why, in operator words: which engine, where, when, and what going live again takes. */
export function withdrawalReason(h: UnarmedHolder): string {
  return `engine ${h.holderId} took the lease without IS_LIVE at ${h.at.toISOString()}; going live again needs /mode live and two approvals`;
}

/** The last switched request, as the status views read it. */
export interface LastSwitch {
  id: number;
  toMode: 'paper' | 'live';
  requester: string;
  reason: string | null;
  decidedAt: Date | string | null;
}

/** Why bot_state says paper when an unarmed engine withdrew the live approval. */
export interface LiveWithdrawn {
  /** The switched request that records it (`ctb mode history --id`). */
  requestId: number;
  at: string | null;
  by: string;
  reason: string;
}

/**
 * The withdrawal that explains bot_state's paper: the last switch was it, and nothing switched since.
 * Null while bot_state says live, or when the last switch was anything else (an operator's rollback, a kill).
 */
export function liveWithdrawnOf(storedMode: 'paper' | 'live', last: LastSwitch | null | undefined): LiveWithdrawn | null {
  if (storedMode !== 'paper' || !last || last.toMode !== 'paper' || last.requester !== WITHDRAWAL_ACTOR || !last.reason) return null;
  const at = last.decidedAt === null ? null : new Date(last.decidedAt).toISOString();
  return { requestId: last.id, at, by: last.requester, reason: last.reason };
}

/** One line for the views: "live approval withdrawn (#12): engine … took the lease without IS_LIVE at …; going live again needs …". */
export function liveWithdrawnPhrase(w: LiveWithdrawn): string {
  return `live approval withdrawn (#${w.requestId}): ${w.reason}`;
}
