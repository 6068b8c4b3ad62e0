// Owns how secrets are held in memory: a Secret prints, logs and serialises as [redacted];
// only an explicit reveal() yields the value, and only src/exchange and src/slack call it.
import { inspect } from 'node:util';

export const REDACTED = '[redacted]';

/**
 * The shortest configured secret the audit's leak scan searches tracked files for. Kraken keys are 56
 * characters and secrets 88; a shorter value turns up inside unrelated text (`abc` in a hundred
 * tracked files), so the scan does not search for it (the key shapes still apply).
 */
export const MIN_MATCHED_SECRET_CHARS = 16;

/**
 * Logs mask a configured secret of this length or more wherever it occurs, inside longer text too (a
 * 12-character database password inside a URL); a shorter one only where it stands as a word of its
 * own, so that a one-letter test value does not blank every word. Missing a secret in a log costs
 * more than masking a few letters too many.
 */
export const MIN_MASKED_ANYWHERE_CHARS = 6;

export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  reveal(): string {
    return this.#value;
  }

  /** Whether the value occurs in `text` (secret scans), without handing the value out. */
  occursIn(text: string): boolean {
    return this.#value.length > 0 && text.includes(this.#value);
  }

  /** Shorter than MIN_MATCHED_SECRET_CHARS: too short to be a Kraken key or secret. */
  tooShortToMatch(): boolean {
    return this.#value.length < MIN_MATCHED_SECRET_CHARS;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return REDACTED;
  }
}
