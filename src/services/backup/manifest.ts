// Owns the backup manifest: the list of every file in a snapshot with its size and SHA-256, and the
// check that a snapshot directory still matches it (no file missing, altered or added).
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { isAbsolute, join, normalize, relative, sep } from 'node:path';

export const MANIFEST_FILE = 'manifest.json';
export const MANIFEST_FORMAT = 'ctb-backup/1';

export interface ManifestEntry {
  /** Relative to the snapshot directory, with forward slashes. */
  path: string;
  bytes: number;
  sha256: string;
  /** True when secret values or token-shaped strings were replaced while copying. */
  scrubbed?: boolean;
}

export interface Manifest {
  format: typeof MANIFEST_FORMAT;
  createdAt: string;
  reason: string;
  actor: string;
  release: string;
  files: ManifestEntry[];
}

export type VerifyProblemKind = 'missing' | 'altered' | 'extra' | 'manifest';

export interface VerifyProblem {
  kind: VerifyProblemKind;
  path: string;
  detail: string;
}

export interface VerifyResult {
  ok: boolean;
  dir: string;
  checked: number;
  problems: VerifyProblem[];
}

export function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Every regular file under `dir`, relative, with forward slashes, sorted. */
export async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() || e.isSymbolicLink())
    .map((e) => relative(dir, join(e.parentPath, e.name)).split(sep).join('/'))
    .sort();
}

export function serializeManifest(manifest: Manifest): string {
  return `${JSON.stringify({ ...manifest, files: [...manifest.files].sort((a, b) => a.path.localeCompare(b.path)) }, null, 2)}\n`;
}

function safeRelative(path: string): boolean {
  if (path === '' || isAbsolute(path) || path.includes('\\')) return false;
  const norm = normalize(path);
  return !norm.startsWith('..') && norm === path;
}

function parseManifest(text: string): Manifest | string {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    return `is not valid JSON (${(err as Error).message})`;
  }
  const m = data as Partial<Manifest>;
  if (m?.format !== MANIFEST_FORMAT) return `has format ${JSON.stringify(m?.format)}, expected "${MANIFEST_FORMAT}"`;
  if (!Array.isArray(m.files)) return 'has no "files" list';
  for (const f of m.files) {
    if (typeof f?.path !== 'string' || typeof f.sha256 !== 'string' || typeof f.bytes !== 'number') {
      return `has a malformed entry ${JSON.stringify(f)} (expected path, bytes, sha256)`;
    }
    if (!safeRelative(f.path) || f.path === MANIFEST_FILE) return `lists an unsafe path ${JSON.stringify(f.path)}`;
  }
  return m as Manifest;
}

export async function readManifest(dir: string): Promise<{ manifest: Manifest; text: string } | VerifyProblem> {
  let text: string;
  try {
    text = await readFile(join(dir, MANIFEST_FILE), 'utf8');
  } catch {
    return { kind: 'manifest', path: MANIFEST_FILE, detail: `no ${MANIFEST_FILE} in ${dir}: not a ctb backup, or it was never completed` };
  }
  const parsed = parseManifest(text);
  if (typeof parsed === 'string') return { kind: 'manifest', path: MANIFEST_FILE, detail: `${MANIFEST_FILE} ${parsed}` };
  return { manifest: parsed, text };
}

/** Compares a snapshot directory with its manifest: every listed file present and unchanged, nothing added. */
export async function verifySnapshotDir(dir: string): Promise<VerifyResult> {
  let problem: string | null = null;
  try {
    if (!(await stat(dir)).isDirectory()) problem = `${dir} is a file, not a snapshot directory`;
  } catch (err) {
    problem = (err as NodeJS.ErrnoException).code === 'ENOENT' ? `${dir} does not exist` : `${dir} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`;
  }
  if (problem) return { ok: false, dir, checked: 0, problems: [{ kind: 'manifest', path: dir, detail: `${problem}: give the snapshot directory that ctb backup wrote` }] };
  const read = await readManifest(dir);
  if ('kind' in read) return { ok: false, dir, checked: 0, problems: [read] };
  const problems: VerifyProblem[] = [];
  const onDisk = new Set((await listFiles(dir)).filter((p) => p !== MANIFEST_FILE));
  for (const entry of read.manifest.files) {
    if (!onDisk.has(entry.path)) {
      problems.push({ kind: 'missing', path: entry.path, detail: `${entry.path} is listed in the manifest but missing` });
      continue;
    }
    onDisk.delete(entry.path);
    const full = join(dir, entry.path);
    const size = (await stat(full)).size;
    const digest = await sha256File(full);
    if (digest !== entry.sha256 || size !== entry.bytes) {
      problems.push({
        kind: 'altered',
        path: entry.path,
        detail: `${entry.path} was altered: SHA-256 ${digest.slice(0, 12)}… (${size} bytes), manifest says ${entry.sha256.slice(0, 12)}… (${entry.bytes} bytes)`,
      });
    }
  }
  for (const extra of onDisk) problems.push({ kind: 'extra', path: extra, detail: `${extra} is not in the manifest (added after the snapshot)` });
  return { ok: problems.length === 0, dir, checked: read.manifest.files.length, problems };
}
