// Owns the rules of the sign-off record that are not SQL: how many distinct approvals a live
// switch needs, which reaction names are one emoji, who has an emoji on a message, and how Slack
// timestamps compare (the queries are in src/db/queries/mode-change.ts).

/** Distinct approvals a live switch needs. Not configurable: the checklist asks for two people. */
export const APPROVALS_NEEDED = 2;

/** Slack timestamps ("1700000000.000100") compared exactly, without going through a float. */
export function compareSlackTs(a: string, b: string): number {
  const parse = (s: string) => {
    const [sec = '0', frac = ''] = s.split('.');
    return BigInt(sec.replace(/\D/g, '') || '0') * 1_000_000n + BigInt((frac.replace(/\D/g, '') + '000000').slice(0, 6));
  };
  const x = parse(a);
  const y = parse(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** `+1::skin-tone-2` and `:x:` name the same reaction as `+1` and `x`. */
export function normaliseEmoji(name: string): string {
  return name.replace(/^:|:$/g, '').split('::')[0]!.toLowerCase();
}

/** Who has `emoji` on a message, by Slack's answer (reactions.get): any skin tone, each user once. */
export function usersWithEmoji(reactions: ReadonlyArray<{ name: string; users: readonly string[] }>, emoji: string): Set<string> {
  const name = normaliseEmoji(emoji);
  return new Set(reactions.filter((r) => normaliseEmoji(r.name) === name).flatMap((r) => r.users));
}
