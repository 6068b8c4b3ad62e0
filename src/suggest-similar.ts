// "Did you mean …?" for a mistyped word: the candidates closest by edit distance (Damerau–
// Levenshtein, at most 3 edits and at least 40 % alike), as commander suggests commands and options.
const MAX_DISTANCE = 3;

function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > MAX_DISTANCE) return Math.max(a.length, b.length);
  const d: number[][] = [];
  for (let i = 0; i <= a.length; i += 1) d[i] = [i];
  for (let j = 0; j <= b.length; j += 1) d[0]![j] = j;
  for (let j = 1; j <= b.length; j += 1) {
    for (let i = 1; i <= a.length; i += 1) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * The closest candidates to `word` (ties kept, in the candidates' order), at most `maxDistance` edits
 * away (3 unless told); [] when none is close.
 */
export function similarWords(word: string, candidates: readonly string[], maxDistance = MAX_DISTANCE): string[] {
  const w = word.toLowerCase();
  let best = Math.min(maxDistance, MAX_DISTANCE);
  let found: string[] = [];
  for (const candidate of new Set(candidates)) {
    if (candidate.length <= 1) continue;
    const distance = editDistance(w, candidate.toLowerCase());
    const similarity = (Math.max(w.length, candidate.length) - distance) / Math.max(w.length, candidate.length);
    if (similarity <= 0.4) continue;
    if (distance < best) {
      best = distance;
      found = [candidate];
    } else if (distance === best) {
      found.push(candidate);
    }
  }
  return found;
}

/** " (Did you mean live?)" — or '' when nothing is close. */
export function didYouMean(word: string, candidates: readonly string[]): string {
  return meantOneOf(similarWords(word, candidates));
}

/** " (Did you mean live?)" for the words found, " (Did you mean one of …?)" for several; '' for none. */
export function meantOneOf(found: readonly string[]): string {
  if (found.length === 0) return '';
  return found.length === 1 ? ` (Did you mean ${found[0]}?)` : ` (Did you mean one of ${found.join(', ')}?)`;
}

/**
 * The candidates that have `word` (or its singular or plural) as one of their dash- or
 * underscore-separated parts ("verify" → verify-credentials, "log" → audit-log, check-logs,
 * "notify" → notify_stakeholders), or that `word` has as one of its own ("kill-all" → kill): a name
 * a person half remembered. Words under 3 letters match nothing.
 */
export function partialMatches(word: string, candidates: readonly string[]): string[] {
  const w = word.toLowerCase();
  if (w.length < 3) return [];
  const forms = new Set([w, w.replace(/s$/, ''), `${w}s`]);
  const own = new Set(w.split(/[-_]/));
  return [...new Set(candidates)].filter((candidate) => {
    const c = candidate.toLowerCase();
    return c.length >= 3 && (c.split(/[-_]/).some((part) => forms.has(part)) || own.has(c));
  });
}

/** The closest candidates by spelling, else those `word` names a part of (partialMatches); [] when none. */
export function nearestWords(word: string, candidates: readonly string[]): string[] {
  const close = similarWords(word, candidates);
  return close.length > 0 ? close : partialMatches(word, candidates);
}

/**
 * nearestWords, unless one of them changes the account (sells, cancels: `changesAccount`): then none.
 * A word that names such a choice (`close` of close_positions) is answered with no guess at all, neither
 * with it nor with a neighbour standing in for it.
 */
export function nearestHarmlessWords(word: string, candidates: readonly string[], changesAccount: (candidate: string) => boolean): string[] {
  const near = nearestWords(word, candidates);
  return near.some(changesAccount) ? [] : near;
}
