// Owns reading a LOG_DIR's rotation facts: the current log sizes, the timestamped archives, and
// whether the logs have rotated (the bot's rotation keeps `<base>.history` in LOG_DIR: src/log-file.ts).
import { access, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { LogRotationFacts } from '../../domain/engine-log-scan.js';

const CURRENT = ['system.log', 'anomalies.log'];
const ARCHIVE_NAME = /^(system|anomalies)-\d{8}T\d{6}-\d+\.log(\.gz)?$/;

async function exists(path: string): Promise<boolean> {
  return access(path).then(() => true, () => false);
}

async function sizeOf(path: string): Promise<number | null> {
  try {
    return (await stat(path)).size;
  } catch {
    return null;
  }
}

export async function readRotationFacts(dir: string, rotateAtBytes: number): Promise<LogRotationFacts> {
  const sizes = Object.fromEntries(await Promise.all(CURRENT.map(async (f) => [f, await sizeOf(join(dir, f))] as const)));
  let archives: string[] = [];
  try {
    archives = (await readdir(join(dir, 'archive'))).filter((f) => ARCHIVE_NAME.test(f)).sort();
  } catch {
    archives = [];
  }
  const rotated = (await Promise.all(CURRENT.map((f) => exists(join(dir, f.replace(/\.log$/, '.history')))))).some(Boolean);
  return { rotateAtBytes, sizes, archives: archives.length, newestArchive: archives.at(-1) ?? null, rotated };
}
