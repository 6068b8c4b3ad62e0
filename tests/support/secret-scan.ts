// Finds secrets in files: the exact configured values, and anything shaped like a Slack token or a
// Kraken API key (56 base64 chars) or secret (88 base64 chars ending in ==). Used by the tests that
// guard "no secret in a backup / log / message".
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

export const TOKEN_SHAPES: RegExp[] = [
  /xox[abposr]-[A-Za-z0-9-]{10,}/,
  /xapp-[A-Za-z0-9-]{10,}/,
  /(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{56}(?![A-Za-z0-9+/=])/,
  /(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{86}==/,
];

export interface SecretHit {
  file: string;
  what: string;
}

export function scanTreeForSecrets(dir: string, values: string[]): SecretHit[] {
  const hits: SecretHit[] = [];
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const full = join(entry.parentPath, entry.name);
    const text = readFileSync(full, 'utf8');
    const file = relative(dir, full);
    for (const v of values) if (text.includes(v)) hits.push({ file, what: `configured value ${v.slice(0, 4)}…` });
    for (const shape of TOKEN_SHAPES) if (shape.test(text)) hits.push({ file, what: `token shape ${shape.source}` });
  }
  return hits;
}
