// Owns what of an alert's details may leave the process: plain JSON, errors reduced to name and
// message, secret-looking keys and configured secret values replaced, long text cut. Alerts go to
// Slack and email, so this runs before the alert is even stored.
import type { Config } from '../config/env.js';
import { REDACTED } from '../config/secret.js';
import { cleanJson, cleanText } from '../db/clean-text.js';
import { scrubberFor } from '../secret-scrub.js';

const SECRET_KEY = /(secret|password|passwd|token|api[-_]?key|authorization|signature|cookie|smtp_url)/i;
const MAX_TEXT = 2_000;
const MAX_DEPTH = 5;

function plain(value: unknown, depth: number): unknown {
  if (value === null || typeof value === 'number' || typeof value === 'boolean') return value;
  if (typeof value === 'string') return value.length > MAX_TEXT ? `${value.slice(0, MAX_TEXT)}…` : value;
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code;
    return { name: value.name, message: plain(value.message, depth + 1), ...(code !== undefined ? { code: String(code) } : {}) };
  }
  if (typeof value === 'object' && typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    return plain((value as { toJSON(): unknown }).toJSON(), depth + 1);
  }
  if (depth >= MAX_DEPTH) return '[…]';
  if (Array.isArray(value)) return value.slice(0, 50).map((v) => plain(v, depth + 1));
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>).slice(0, 50)) {
      out[k] = SECRET_KEY.test(k) ? REDACTED : plain(v, depth + 1);
    }
    return out;
  }
  return undefined; // functions, symbols, undefined
}

export type TextScrubber = (text: string) => string;

export function alertScrubber(config: Config): TextScrubber {
  return scrubberFor(config);
}

/** Details as stored and shown: plain JSON with no secret in it. */
export function sanitizeDetails(details: Record<string, unknown> | undefined, scrub: TextScrubber): Record<string, unknown> {
  if (!details) return {};
  const json = JSON.stringify(cleanJson(plain(details, 0) ?? {}));
  return JSON.parse(scrub(json)) as Record<string, unknown>;
}

/** The most of an alert's title that is stored and shown (sanitizeText cuts the rest off its end). */
export const ALERT_TITLE_MAX = 300;

export function sanitizeText(text: string, scrub: TextScrubber, max = ALERT_TITLE_MAX): string {
  const one = cleanText(scrub(String(text))).replace(/\s+/g, ' ').trim();
  return one.length > max ? `${one.slice(0, max - 1)}…` : one || '(no title)';
}
