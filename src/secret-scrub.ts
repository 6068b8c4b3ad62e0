// Owns the one scrubber for text that leaves the process (log lines, Slack messages, mail, what the
// CLI prints): the configured secret values — the DATABASE_URL and SMTP_URL passwords among them —
// token shapes (Slack tokens, long base64 runs shaped like Kraken keys), and the password of any
// URL's userinfo (`postgres://u:hunter2@db/x` → `postgres://u:[redacted]@db/x`: the user and host
// stay, operators need them). It runs on every log line and every Slack post, so a text with
// nothing to mask costs one scan per configured value and one regex scan, and allocates nothing.
import type { Config } from './config/env.js';
import { MIN_MASKED_ANYWHERE_CHARS, REDACTED, Secret } from './config/secret.js';

/**
 * The shapes, as one regex: a URL's userinfo password (group 1 is `://user:`, kept; the password runs
 * to the last `@` before the host, so one with an unencoded `@` is masked whole; it stops at a quote
 * or backslash, so a JSON text stays JSON; the placeholders `pass` and `password` of a hint's
 * `smtp://user:pass@host` stay, and so does `redacted`, a password masked already), a password in
 * the query (`?password=…`, `&sslpassword=…`: postgres takes either; group 2 is the name, kept) and
 * Slack bot/user/app tokens: the shapes that apply inside a URL too.
 */
const URL_SHAPES_SOURCE = String.raw`(:\/\/[^\s:/?#@"'\\<>]*:)(?!(?:pass(?:word)?|redacted)@)[^\s/?#"'\\<>]+(?=@)|([?&](?:password|sslpassword)=)(?!(?:redacted|\[redacted\])(?:[&#\s"'\\<>]|$))[^&\s#"'\\<>]+|xox[abposr]-[A-Za-z0-9-]{10,}|xapp-[A-Za-z0-9-]{10,}`;
/**
 * A base64 run of 54 or more (Kraken keys are 56 characters, secrets 88) — tried only where a run
 * starts, so that a long run of letters is scanned once, not once from each of its letters —
 * unless it is all hex digits of one case (a sha256, a commit id: a Kraken key or secret is never
 * that).
 */
const BASE64_SOURCE = String.raw`(?<![A-Za-z0-9+/])(?!(?:[0-9a-f]+|[0-9A-F]+)(?![A-Za-z0-9+/=]))[A-Za-z0-9+/]{54,}={0,2}`;
/**
 * A URL, from its scheme to the first space or quote: inside it only the URL shapes apply (its
 * password, a Slack token), not the base64 run — a Slack hooks URL or a long path is no key.
 */
const URL_SOURCE = String.raw`(?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]*:\/\/[^\s"'\\<>]*`;
const SHAPES = new RegExp(`(${URL_SOURCE})|${URL_SHAPES_SOURCE}|${BASE64_SOURCE}`, 'g');
const URL_SHAPES = new RegExp(URL_SHAPES_SOURCE, 'g');
/**
 * Whether anything may need masking, not global (test() on it keeps no lastIndex between texts): what
 * SHAPES masks is a subset of what this matches, so a text it does not match is returned as is.
 */
const ANY_SHAPE = new RegExp(`${URL_SHAPES_SOURCE}|${BASE64_SOURCE}`);

const maskUrlShape = (_match: string, userinfo: string | undefined, param: string | undefined): string => `${userinfo ?? param ?? ''}${REDACTED}`;
const maskShape = (match: string, url: string | undefined, userinfo: string | undefined, param: string | undefined): string =>
  url !== undefined ? url.replace(URL_SHAPES, maskUrlShape) : maskUrlShape(match, userinfo, param);

/** The token shapes and URL passwords of `text` masked; `text` itself when it has none. */
export function scrubShapes(text: string): string {
  return ANY_SHAPE.test(text) ? text.replace(SHAPES, maskShape) : text;
}

export type Scrubber = (text: string) => string;

/**
 * Masks every configured secret value, whatever its length: from MIN_MASKED_ANYWHERE_CHARS wherever it
 * occurs, a shorter one where it stands as a word of its own (not inside a longer run of letters and
 * digits, so that a one-letter test value does not blank every word), then the shapes.
 */
export function makeScrubber(secrets: Array<Secret | undefined>): Scrubber {
  const values = [...new Set(secrets
    .map((s) => s?.reveal())
    .filter((v): v is string => typeof v === 'string' && v.length > 0)
    .flatMap((v) => [v, JSON.stringify(v).slice(1, -1)]))];
  const anywhere = values.filter((v) => v.length >= MIN_MASKED_ANYWHERE_CHARS);
  const asWords = values.filter((v) => v.length < MIN_MASKED_ANYWHERE_CHARS)
    .map((v) => new RegExp(`(?<![A-Za-z0-9])${v.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![A-Za-z0-9])`, 'g'));
  return (text: string) => {
    let out = text;
    for (const v of anywhere) if (out.includes(v)) out = out.split(v).join(REDACTED);
    for (const word of asWords) {
      word.lastIndex = 0;
      if (word.test(out)) out = out.replace(word, REDACTED);
    }
    return scrubShapes(out);
  };
}

/**
 * The password of a URL's userinfo, decoded, unless it is the URL's user or scheme name (`postgres://
 * postgres:postgres@…` on a developer's machine): masking that word everywhere would blank every
 * line that names the database, and inside a URL the shape masks it anyway.
 */
export function urlPassword(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    const u = new URL(url);
    const pw = u.password ? decodeURIComponent(u.password) : (u.searchParams.get('password') ?? '');
    if (pw === '' || pw === decodeURIComponent(u.username) || pw === u.protocol.slice(0, -1)) return undefined;
    return pw;
  } catch {
    return undefined;
  }
}

/**
 * A URL's password is masked outside its URL from this length: a shorter one (`confirm`, `paper`, `1`
 * on a developer's machine) is a word the bot's own messages use — masking it turned the action_id
 * exit_trade_confirm into exit_trade_[redacted] and a button's JSON value invalid — and inside its
 * URL the shape masks it whatever its length.
 */
export const MIN_URL_PASSWORD_MASKED_OUTSIDE = 8;

/** The words the URL shape leaves alone as placeholders (`user:password@host`) are not masked either. */
const PLACEHOLDERS: ReadonlySet<string> = new Set(['pass', 'password', 'redacted']);

function maskedOutsideUrl(pw: string): boolean {
  return pw.length >= MIN_URL_PASSWORD_MASKED_OUTSIDE && !PLACEHOLDERS.has(pw.toLowerCase());
}

/**
 * Every Secret field of the configuration (KILL_HTTP_TOKEN, and a variable added later, without a
 * change here) plus the DATABASE_URL and SMTP_URL passwords.
 */
export function configSecrets(config: Config): Array<Secret | undefined> {
  const urlPasswords = [urlPassword(config.DATABASE_URL), urlPassword(config.SMTP_URL?.reveal())]
    .map((pw) => (pw === undefined || !maskedOutsideUrl(pw) ? undefined : new Secret(pw)));
  const held = Object.values(config).filter((v): v is Secret => v instanceof Secret);
  return [...held, ...urlPasswords];
}

const scrubbers = new WeakMap<Config, Scrubber>();

/** The scrubber of this configuration, made once (its regexes compiled once) and shared. */
export function scrubberFor(config: Config): Scrubber {
  let scrub = scrubbers.get(config);
  if (!scrub) {
    scrub = makeScrubber(configSecrets(config));
    scrubbers.set(config, scrub);
  }
  return scrub;
}

/**
 * `value` with every string in it scrubbed (Slack's text, blocks and attachments), keys named in
 * `keep` left alone (the token a call may carry). The same object when nothing changed: a message
 * with nothing to mask is not copied.
 */
export function scrubDeep<T>(value: T, scrub: Scrubber, keep: ReadonlySet<string> = NO_KEYS, depth = 0): T {
  if (typeof value === 'string') return scrub(value) as T;
  if (value === null || typeof value !== 'object' || depth > 20) return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i];
      const s = scrubDeep(v, scrub, keep, depth + 1);
      if (s !== v) (copy ??= value.slice())[i] = s;
    }
    return (copy ?? value) as T;
  }
  if (Object.getPrototypeOf(value) !== Object.prototype && Object.getPrototypeOf(value) !== null) return value;
  let copy: Record<string, unknown> | undefined;
  for (const key in value) {
    if (keep.has(key)) continue;
    const v: unknown = (value as Record<string, unknown>)[key];
    const s = scrubDeep(v, scrub, keep, depth + 1);
    if (s !== v) (copy ??= { ...(value as Record<string, unknown>) })[key] = s;
  }
  return (copy ?? value) as T;
}

const NO_KEYS: ReadonlySet<string> = new Set();

/**
 * The keys of a Slack message that the bot's own code fills and Slack or its handlers read back: an
 * action_id or a button's value changed by a mask no longer reaches its handler (or is no longer
 * JSON); ids, timestamps and cursors are not text a secret travels in. Sent as they are.
 */
export const SLACK_STRUCTURAL_KEYS: ReadonlySet<string> = new Set([
  'action_id', 'block_id', 'callback_id', 'value', 'private_metadata', 'url', 'channel', 'ts', 'thread_ts', 'cursor',
]);
