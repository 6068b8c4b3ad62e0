// Owns what paper ROI is measured against: the amount the paper account was funded with, recorded
// when the engine's paper venue funded it. Before that — or on a database funded before the amount
// was recorded — this process's PAPER_STARTING_BALANCE stands in, and what reads it says why.
import { money } from './amount-text.js';

/** `recorded`: the funding as recorded; `config`: nothing funded yet; `unrecorded`: funded before the amount was recorded. */
export type PaperStartFrom = 'recorded' | 'config' | 'unrecorded';

export interface PaperStart {
  amount: string;
  from: PaperStartFrom;
}

/** The paper account's quote row as read (undefined: not funded), with this process's setting. */
export function paperStartOf(row: { starting: string | null } | undefined, configured: number): PaperStart {
  if (row?.starting != null) return { amount: row.starting, from: 'recorded' };
  return { amount: String(configured), from: row ? 'unrecorded' : 'config' };
}

/** Why this process's PAPER_STARTING_BALANCE stands in (null when the recorded funding is used). */
export function paperStartReason(from: PaperStartFrom): string | null {
  if (from === 'config') return 'no engine has funded the paper account yet';
  if (from === 'unrecorded') return 'the paper account was funded before its amount was recorded';
  return null;
}

/**
 * What a stats view says when a book's ROI is over this process's PAPER_STARTING_BALANCE, not the
 * funding an engine recorded, and why — "ROI is over this process's PAPER_STARTING_BALANCE
 * (5,000.00): no engine has funded the paper account yet" — or null when it is not. Both ROIs are
 * then over it (with no equity snapshot, the period's start falls back to it too). The terminal and
 * Slack say these words alike; each only frames them.
 */
export function startingCapitalNote(roi: { startingCapital: string | null; startingCapitalFrom: 'first_snapshot' | PaperStartFrom | null }): string | null {
  const from = roi.startingCapitalFrom;
  const why = from && from !== 'first_snapshot' ? paperStartReason(from) : null;
  return why ? `ROI is over this process's PAPER_STARTING_BALANCE (${money(roi.startingCapital)}): ${why}` : null;
}
