// Owns scanning the tracked files of a checkout for Kraken credentials: the configured key and
// secret (matched without revealing them), and literals shaped like a Kraken key (56 base64
// characters) or secret (88, ending in ==) assigned to a key-ish name. Reports file and line only.
// A configured value shorter than MIN_MATCHED_SECRET_CHARS is not searched for (the shapes still are).
// Files matched by LEAK_SCAN_IGNORE (gitignore syntax, kept in the repo: the test suite's fixtures)
// skip the shape heuristics only: the configured key and secret are looked for in every file.
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Secret } from '../../../config/secret.js';
import { trackedFileLists } from '../sources/git.js';

/** The repo's list of paths whose key-shaped literals are fixtures, not keys (docs/audit-json.md). */
export const LEAK_SCAN_IGNORE = '.leakscanignore';

export interface SecretFinding {
  file: string;
  line: number;
  kind: 'configured_key' | 'configured_secret' | 'key_shaped' | 'secret_shaped';
}

const MAX_FILE_BYTES = 2 * 1024 * 1024;
// A key-ish name, an assignment, then a long base64 literal: `KRAKEN_API_KEY=…`, `secret: "…"`.
const ASSIGNED = /(?:kraken|api[_-]?key|api[_-]?secret|secret|private[_-]?key|apikey)\w*["']?\s*[:=]\s*["'`]?([A-Za-z0-9+/]{40,}={0,2})(?![A-Za-z0-9+/=])/gi;

/** ASSIGNED, asked only whether it matches (no `g`: no lastIndex carried from one text to the next). */
const ASSIGNED_ANYWHERE = new RegExp(ASSIGNED.source, 'i');

function shapeOf(literal: string): SecretFinding['kind'] | null {
  if (/^[A-Za-z0-9+/]{56}$/.test(literal)) return 'key_shaped';
  if (/^[A-Za-z0-9+/]{86}==$/.test(literal)) return 'secret_shaped';
  return null;
}

export function scanText(
  file: string,
  text: string,
  secrets: { key?: Secret | undefined; secret?: Secret | undefined },
  opts: { shapes?: boolean } = {},
): SecretFinding[] {
  const findings: SecretFinding[] = [];
  // A value too short to be a Kraken key or secret is not searched for: it occurs in unrelated text.
  let key = secrets.key?.tooShortToMatch() ? undefined : secrets.key;
  let secret = secrets.secret?.tooShortToMatch() ? undefined : secrets.secret;
  // What the whole text does not contain, no line of it does: most files are read through once, not
  // line by line (a line's match is a match in the whole text at the same place).
  if (!key?.occursIn(text)) key = undefined;
  if (!secret?.occursIn(text)) secret = undefined;
  const shapes = opts.shapes !== false && ASSIGNED_ANYWHERE.test(text);
  if (!key && !secret && !shapes) return findings;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (key?.occursIn(line)) findings.push({ file, line: i + 1, kind: 'configured_key' });
    if (secret?.occursIn(line)) findings.push({ file, line: i + 1, kind: 'configured_secret' });
    if (!shapes) continue;
    for (const m of line.matchAll(ASSIGNED)) {
      const kind = shapeOf(m[1]!);
      if (kind && !findings.some((f) => f.line === i + 1 && f.file === file)) findings.push({ file, line: i + 1, kind });
    }
  }
  return findings;
}

export async function scanTrackedFiles(
  cwd: string,
  [key, secret]: [Secret | undefined, Secret | undefined],
): Promise<{ filesScanned: number; findings: SecretFinding[]; shapesSkipped: string[] } | null> {
  const lists = await trackedFileLists(cwd, existsSync(join(cwd, LEAK_SCAN_IGNORE)) ? LEAK_SCAN_IGNORE : null);
  if (lists === null) return null;
  const { files } = lists;
  const ignored = new Set(lists.matching);
  const findings: SecretFinding[] = [];
  let filesScanned = 0;
  for (const file of files) {
    const path = join(cwd, file);
    try {
      const info = await stat(path);
      if (!info.isFile() || info.size > MAX_FILE_BYTES) continue;
      const buf = await readFile(path);
      if (buf.subarray(0, 8000).includes(0)) continue; // binary
      filesScanned += 1;
      findings.push(...scanText(file, buf.toString('utf8'), { key, secret }, { shapes: !ignored.has(file) }));
    } catch {
      // deleted in the work tree but still tracked: nothing to scan
    }
  }
  return { filesScanned, findings, shapesSkipped: files.filter((f) => ignored.has(f)) };
}
