// Checklist 3: log rotation configured (below 10 MB), the current log files under 10 MB, and
// timestamped archives present once rotation has happened. A fresh install, whose logs have never
// reached the rotation size, has no history to archive yet: that passes, saying so. A log that has
// rotated (the bot's rotation then keeps `<base>.history` in LOG_DIR: src/log-file.ts) but left no archive warns.
import { access, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { logDirToRead, unreadableLogDirOutcome } from '../sources/engine-operations.js';
import { defineCheck, type CheckOutcome } from '../types.js';

export const LOG_LIMIT_BYTES = 10 * 1024 * 1024;
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

export const logRotationCheck = defineCheck({
  id: 'logging.rotation',
  title: 'Log rotation below 10 MB, current logs small, timestamped archives exist',
  checklistSection: 3,
  async run(ctx): Promise<CheckOutcome> {
    // The engine's LOG_DIR when its process recorded one: the logs it rotates are there.
    const logs = await logDirToRead(ctx);
    if (logs.unreadable) return unreadableLogDirOutcome(logs);
    const dir = logs.dir;
    const maxBytes = ctx.config.LOG_MAX_BYTES;
    const sizes = Object.fromEntries(await Promise.all(CURRENT.map(async (f) => [f, await sizeOf(join(dir, f))] as const)));
    let archives: string[] = [];
    try {
      archives = (await readdir(join(dir, 'archive'))).filter((f) => ARCHIVE_NAME.test(f)).sort();
    } catch {
      archives = [];
    }
    const rotated = (await Promise.all(CURRENT.map((f) => exists(join(dir, f.replace(/\.log$/, '.history')))))).some(Boolean);
    const details = { logDir: dir, logDirFrom: logs.from, rotateAtBytes: maxBytes, sizes, archives: archives.length, newestArchive: archives.at(-1) ?? null, rotated };
    const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;
    const big = Object.entries(sizes).filter(([, s]) => s !== null && s >= LOG_LIMIT_BYTES);
    if (maxBytes > LOG_LIMIT_BYTES) {
      return { status: 'fail', value: `rotation at ${mb(maxBytes)}: above 10 MB`, fix: 'Set LOG_MAX_BYTES to 10485760 or less.', details };
    }
    if (big.length > 0) {
      return { status: 'fail', value: `${big.map(([f, s]) => `${f} is ${mb(s!)}`).join(', ')} (limit 10 MB)`, fix: 'Check that the bot is running: it rotates LOG_DIR (src/log-file.ts); `ctb` commands only append.', details };
    }
    const current = Object.entries(sizes).map(([f, s]) => `${f} ${s === null ? 'absent' : mb(s)}`).join(', ');
    if (archives.length === 0 && !rotated) {
      return { status: 'pass', value: `rotates at ${mb(maxBytes)}; ${current}; no rotation yet (no log has reached ${mb(maxBytes)}), so nothing to archive`, fix: null, details };
    }
    const value = `rotates at ${mb(maxBytes)}; ${current}; ${archives.length} archive(s)`;
    if (archives.length === 0) {
      return {
        status: 'warn', value: `${value}: the logs have rotated but no archive is left in ${dir}/archive`,
        fix: `Find out what removed the archives from ${dir}/archive (the bot keeps the last LOG_ARCHIVES of them); they are the log history the checklist asks to keep.`, details,
      };
    }
    return { status: 'pass', value, fix: null, details };
  },
});
