// Owns the one spelling of a decimal string: trailing zeros dropped, so equal amounts read (and
// hash) the same in reconciliation keys and in what the terminal shows.

/** "0.0100" → "0.01", "5.000" → "5", "7" → "7": one spelling per number, for hash keys. */
export function canonicalDecimal(s: string): string {
  if (s.indexOf('.') < 0) return s;
  let end = s.length;
  while (end > 0 && s.charCodeAt(end - 1) === 48) end -= 1; // '0'
  if (end > 0 && s.charCodeAt(end - 1) === 46) end -= 1; // '.'
  return s.slice(0, end);
}
