// Owns the words for an operator's exit request as every part shows it: what it targets (and in words), and how
// it stands (pending with how long it has waited, then done or failed with what happened to each trade).
import type { ManualExitOutcome } from '../engine/manual-exit.js';

export type ExitTarget = number | 'all';

export interface ExitRequestState {
  requestId: number;
  status: 'pending' | 'done' | 'failed';
  /** True when an identical exit was already pending: this asked nothing new. */
  joined: boolean;
  summary: string | null;
  results: ManualExitOutcome[];
  /** While pending: how long it has waited since it was confirmed (the database's clock); else null. */
  waitedMs: number | null;
  /** EXIT_REQUEST_TTL: a pending exit that waited this long is never carried out. */
  ttlMs: number;
  /** Its requester's wait (params.waitMs) is over, or ends with this answer: whoever finishes it tells how it ended (tell-exit.ts). */
  toldLater: boolean;
  /** While pending: how long it has waited and when it expires, in words (exit-expiry.ts); else null. */
  queued: string | null;
  /** An `exit all` that left out trades another queued exit already closes: which, and by which request, in words. */
  skipped?: string;
  /** The trades it left out (what `skipped` names). */
  skippedTradeIds?: number[];
}


/** "#12, #13" — the first ten, then "and N more": a list of trade ids that stays short however many. */
export function tradeIdList(ids: readonly number[], first = 10): string {
  return ids.slice(0, first).map((id) => `#${id}`).join(', ') + (ids.length > first ? ` and ${ids.length - first} more` : '');
}

/** "trade #12" or "every listed trade (#12, #13)": what an exit request closes. */
export function describePendingExit(row: { target: ExitTarget; tradeIds: readonly number[] }): string {
  if (row.target !== 'all') return `trade #${row.target}`;
  return `every listed trade (${tradeIdList(row.tradeIds)})`;
}
