// Checklist 3: log rotation configured (below 10 MB), the current log files under 10 MB, and
// timestamped archives present once rotation has happened. A fresh install, whose logs have never
// reached the rotation size, has no history to archive yet: that passes, saying so. A log that has
// rotated (the bot's rotation then keeps `<base>.history` in LOG_DIR: src/log-file.ts) but left no archive warns.
// Judges the engine's LOG_DIR as its process published it (sources/engine-logs.ts), with its rotation size.
import { logFactsToJudge } from '../sources/engine-logs.js';
import { defineCheck, type CheckOutcome } from '../types.js';

export const LOG_LIMIT_BYTES = 10 * 1024 * 1024;

export const logRotationCheck = defineCheck({
  id: 'logging.rotation',
  title: 'Log rotation below 10 MB, current logs small, timestamped archives exist',
  checklistSection: 3,
  async run(ctx): Promise<CheckOutcome> {
    // The engine's own facts about the logs it rotates: this process's LOG_DIR is not the engine's.
    const logs = await logFactsToJudge(ctx);
    if (!logs.judged) return logs.outcome;
    const { logDir: dir, rotation } = logs.facts;
    const { rotateAtBytes: maxBytes, sizes, archives, rotated } = rotation;
    const whose = logs.source === 'engine' ? ` (${logs.from})` : '';
    const details = { logDir: dir, logDirFrom: logs.from, rotateAtBytes: maxBytes, sizes, archives, newestArchive: rotation.newestArchive, rotated };
    const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;
    const big = Object.entries(sizes).filter(([, s]) => s !== null && s >= LOG_LIMIT_BYTES);
    if (maxBytes > LOG_LIMIT_BYTES) {
      return { status: 'fail', value: `rotation at ${mb(maxBytes)}: above 10 MB${whose}`, fix: 'Set LOG_MAX_BYTES to 10485760 or less.', details };
    }
    if (big.length > 0) {
      return { status: 'fail', value: `${big.map(([f, s]) => `${f} is ${mb(s!)}`).join(', ')} (limit 10 MB)${whose}`, fix: 'Check that the bot is running: it rotates LOG_DIR (src/log-file.ts); `ctb` commands only append.', details };
    }
    const current = Object.entries(sizes).map(([f, s]) => `${f} ${s === null ? 'absent' : mb(s)}`).join(', ');
    if (archives === 0 && !rotated) {
      return { status: 'pass', value: `rotates at ${mb(maxBytes)}; ${current}; no rotation yet (no log has reached ${mb(maxBytes)}), so nothing to archive${whose}`, fix: null, details };
    }
    const value = `rotates at ${mb(maxBytes)}; ${current}; ${archives} archive(s)`;
    if (archives === 0) {
      return {
        status: 'warn', value: `${value}: the logs have rotated but no archive is left in ${dir}/archive${whose}`,
        fix: `Find out what removed the archives from ${dir}/archive (the bot keeps the last LOG_ARCHIVES of them); they are the log history the checklist asks to keep.`, details,
      };
    }
    return { status: 'pass', value: `${value}${whose}`, fix: null, details };
  },
});
