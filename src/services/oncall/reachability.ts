// Owns re-checking with Slack that the people the rotation names can still be paged: a member
// deactivated in Slack after joining the rotation is not refused anywhere else (the DM fails at
// once and the escalation moves on, but the shift goes uncovered). Asked through the same port as
// the checks before storing (user-directory.ts, users.info); Slack not answering leaves them
// unchecked with a warning, never fails the caller.
import type { UserDirectory } from './user-directory.js';

export interface Reachability {
  /** Slack says these are not active people: a page to them cannot be delivered. */
  unreachable: Array<{ userId: string; why: string }>;
  /** Who could not be checked, and why (Slack down, or not configured here). */
  unchecked: { ids: string[]; why: string } | null;
}

/** Asks Slack about each id once, in order; once Slack fails to answer, the rest are left unchecked. */
export async function checkReachable(directory: UserDirectory | null | undefined, ids: string[]): Promise<Reachability> {
  const distinct = [...new Set(ids)];
  if (distinct.length === 0) return { unreachable: [], unchecked: null };
  if (!directory) return { unreachable: [], unchecked: { ids: distinct, why: 'Slack is not configured here' } };
  const unreachable: Reachability['unreachable'] = [];
  for (const [i, id] of distinct.entries()) {
    const found = await directory.lookup(id);
    if (found.kind === 'missing') unreachable.push({ userId: id, why: found.why });
    if (found.kind === 'unknown') return { unreachable, unchecked: { ids: distinct.slice(i), why: `Slack did not answer: ${found.why}` } };
  }
  return { unreachable, unchecked: null };
}

/** What an operator is told: one line per person who cannot be paged, one for those not checked. */
export function reachabilityWarnings(r: Reachability): string[] {
  const out = r.unreachable.map(({ userId, why }) =>
    `${userId} cannot be paged: Slack says ${why}. A page to them fails and the escalation goes on to the next step; ` +
    'take them off with `ctb oncall set --members …`, or cover their shifts with `ctb oncall override <member> <duration>`.');
  if (r.unchecked) out.push(`Could not check with Slack that ${r.unchecked.ids.join(', ')} can still be paged (${r.unchecked.why}).`);
  return out;
}
