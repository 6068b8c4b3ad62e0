// Owns making text storable: PostgreSQL refuses a NUL character (U+0000) in text and jsonb, and a
// lone UTF-16 surrogate in jsonb, so one such character in a kill reason made the whole write fail
// (the halt was never written) and one in a command's text lost its command-trail entry. Each is
// replaced by U+FFFD, the mark for "a character was here that could not be kept", so what a person
// typed stays readable and the write goes through. Used where input arrives (the command runner,
// POST /kill) and in the query helpers that store free text (kills, the command trail, alerts,
// checklist outcomes, engine requests), so a caller that forgets cannot break a write.

const REPLACEMENT = '\uFFFD';
/** NUL, a high surrogate not followed by a low one, or a low surrogate not preceded by a high one. */
const UNSTORABLE = /\0|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** `text` with NUL and lone surrogates replaced by U+FFFD. */
export function cleanText(text: string): string {
  return text.replace(UNSTORABLE, REPLACEMENT);
}

/** A copy of a JSON-like value with every string (keys too) cleaned; other values as they are. */
export function cleanJson<T>(value: T): T {
  return clean(value, 0) as T;
}

function clean(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return cleanText(value);
  if (value === null || typeof value !== 'object' || depth > 32) return value;
  if (value instanceof Date) return value;
  if (Array.isArray(value)) return value.map((v) => clean(v, depth + 1));
  // Anything with its own JSON form (decimals, errors with toJSON) is stored as that form.
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return clean((value as { toJSON(): unknown }).toJSON(), depth + 1);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[cleanText(k)] = clean(v, depth + 1);
  return out;
}
