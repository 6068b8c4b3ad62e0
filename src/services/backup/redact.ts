// Owns keeping secrets out of snapshots: the configured secret values (and a DATABASE_URL password)
// plus the logger's token shapes are replaced before any byte is written to a backup.
import { parse } from 'dotenv';
import type { Config } from '../../config/env.js';
import { REDACTED, Secret } from '../../config/secret.js';
import { configSecrets, makeScrubber } from '../../logger.js';

/** Env names whose values are secret even when the schema does not hold them as Secret. */
const SECRET_NAME = /(KEY|SECRET|TOKEN|PASSWORD|PASSPHRASE|CREDENTIAL|PRIVATE)/i;

export function databasePassword(config: Pick<Config, 'DATABASE_URL'>): string | undefined {
  if (!config.DATABASE_URL) return undefined;
  try {
    const pw = new URL(config.DATABASE_URL).password;
    return pw ? decodeURIComponent(pw) : undefined;
  } catch {
    return undefined;
  }
}

export function redactUrlPassword(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  try {
    const u = new URL(url);
    if (!u.password) return url;
    u.password = 'redacted';
    return u.toString();
  } catch {
    return REDACTED;
  }
}

/**
 * A scrubber over every secret this configuration holds — every Secret field (so a variable added
 * later is covered without a change here), the DATABASE_URL password — plus the token shapes.
 */
export function backupScrubber(config: Config): (text: string) => string {
  const pw = databasePassword(config);
  return makeScrubber([...configSecrets(config), pw ? new Secret(pw) : undefined]);
}

/** The effective configuration as JSON: secrets show as [redacted] when set, null when unset. */
export function redactedConfig(config: Config): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(config).sort(([a], [b]) => a.localeCompare(b))) {
    if (value instanceof Secret) out[key] = REDACTED;
    else if (key === 'DATABASE_URL') out[key] = redactUrlPassword(value as string | undefined) ?? null;
    else out[key] = value === undefined ? null : value;
  }
  for (const secret of ['KRAKEN_API_KEY', 'KRAKEN_API_SECRET', 'SLACK_BOT_TOKEN', 'SLACK_SIGNING_SECRET', 'SLACK_APP_TOKEN', 'SMTP_URL']) {
    if (!(secret in out)) out[secret] = null;
  }
  return out;
}

/**
 * A .env file with every secret-looking value replaced: keeps the file's lines, comments and order so
 * the snapshot shows which variables were set, never their secret values.
 */
export function redactEnvFile(text: string): string {
  const parsed = parse(text);
  return text
    .split(/\r?\n/)
    .map((line) => {
      const m = /^(\s*(?:export\s+)?)([A-Za-z_][A-Za-z0-9_]*)(\s*=\s*)(.*)$/.exec(line);
      if (!m) return line;
      const [, lead, name, eq] = m;
      const value = parsed[name!] ?? '';
      if (name === 'DATABASE_URL') return `${lead}${name}${eq}${redactUrlPassword(value) ?? ''}`;
      if (SECRET_NAME.test(name!) || /^SMTP_URL$/i.test(name!)) return `${lead}${name}${eq}${value ? REDACTED : ''}`;
      return line;
    })
    .join('\n');
}
