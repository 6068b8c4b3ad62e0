// Owns checking that the people named in an override or a rotation exist before they are stored:
// a page to a member id Slack does not know can never be delivered. The port is answered by
// src/slack (users.info); when Slack cannot be asked, the change is accepted with a warning rather
// than blocking an operator in an incident.
import { AppError } from '../../errors.js';

/** What Slack says of a member id: a person it knows, one it does not (or deactivated), or no answer. */
export type UserLookup = { kind: 'person' } | { kind: 'missing'; why: string } | { kind: 'unknown'; why: string };

export interface UserDirectory {
  lookup(userId: string): Promise<UserLookup>;
}

/** Refuses an id Slack says does not exist; returns warnings for the ids it could not check. */
export async function checkPeople(directory: UserDirectory | null | undefined, ids: string[]): Promise<string[]> {
  if (!directory) {
    const one = ids.length === 1;
    return [`Stored unverified: Slack is not configured here (SLACK_BOT_TOKEN), so nobody checked that ${ids.join(', ')} ${one ? 'is a Slack user' : 'are Slack users'} who can be paged. The go-live audit (oncall.rotation) warns until Slack has checked them.`];
  }
  const warnings: string[] = [];
  for (const id of ids) {
    const found = await directory.lookup(id);
    if (found.kind === 'missing') {
      throw new AppError('usage', 'unknown_user', `Slack has no active user ${id} (${found.why}): a page to them could not be delivered. Nothing was changed.`, {
        hint: 'In Slack, pick the person from the @ menu; in the terminal, use their member id (profile → ⋮ → Copy member ID).',
      });
    }
    if (found.kind === 'unknown') warnings.push(`Could not ask Slack whether ${id} exists (${found.why}); accepted unchecked.`);
  }
  return warnings;
}
