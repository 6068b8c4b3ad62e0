// Owns reading a person from text: U123ABC, @U123ABC, or Slack's escaped mention <@U123ABC|name>.
// Display names (@alice) cannot be resolved without asking Slack, so they get a clear message.
import { AppError } from '../../errors.js';

const MEMBER_ID_HINT = 'In Slack, pick the person from the @ menu; in the terminal, use their member id (profile → ⋮ → Copy member ID).';

export function parseUserRef(text: string): string {
  const t = text.trim();
  const m = /^<@([UW][A-Z0-9]{2,})(?:\|[^>]*)?>$/.exec(t) ?? /^@?([UW][A-Z0-9]{2,})$/.exec(t);
  if (m) return m[1]!;
  // Slack's /oncall override turns "me" into the member who typed it; one that reaches here came
  // from where nobody's Slack member id is known (the terminal's user is a login, not a member).
  if (t.toLowerCase() === 'me') {
    throw new AppError('usage', 'bad_user', '"me" can only be read in Slack (/oncall override me 2h), where the bot knows who typed it: expected your Slack member id, such as U012ABCDEF.', {
      hint: 'Find it in Slack: your profile → ⋮ → Copy member ID.',
    });
  }
  // Only the shape is read here (a name cannot be looked up without Slack): say which shape is wanted.
  throw new AppError('usage', 'bad_user', `"${t}" is not a Slack member id: expected one such as U012ABCDEF, or an @mention.`, { hint: MEMBER_ID_HINT });
}

export function parseUserList(text: string | string[]): string[] {
  const parts = (Array.isArray(text) ? text : text.split(/[\s,]+/)).map((s) => s.trim()).filter(Boolean);
  if (parts.length === 0) throw new AppError('usage', 'no_members', 'A rotation needs at least one member: expected --members U012AB3CD,U045EF6GH,… (Slack member ids)');
  const ids = parts.map(parseUserRef);
  const dup = ids.find((id, i) => ids.indexOf(id) !== i);
  if (dup) throw new AppError('usage', 'duplicate_member', `${dup} is listed twice; list each member once, in rotation order.`);
  return ids;
}
