// `ctb check-logs [2h]` (or --period 2h): the go-live log check on its own — unhandled errors in
// LOG_DIR/system.log and anomalies.log within the window (default LOG_CHECK_WINDOW). Exit 1 when any.
import { z } from 'zod';
import { parseDuration } from '../src/config/duration.js';
import { scanLogs, type LogScanResult } from '../src/services/logcheck/scan-logs.js';
import { defineCommand } from './define.js';

export type CheckLogsResult = LogScanResult & { logDir: string };

export const checkLogsCommand = defineCommand({
  name: 'check-logs',
  summary: 'look for unhandled errors in system.log and anomalies.log within a recent window',
  role: 'reader',
  args: z.object({
    // Named as the terminal names it (`[period]`, `--period`), so a bad value's error does too.
    period: z
      .string()
      .optional()
      .transform((v, ctx) => {
        if (v === undefined) return undefined;
        const ms = parseDuration(v);
        if (ms === undefined) {
          ctx.addIssue({ code: 'custom', message: `expected a duration such as 30m, 2h or 1d, got "${v}"` });
          return z.NEVER;
        }
        return ms;
      }),
    // A word that is no number reaches here as NaN (the option's parser): said as what is expected.
    limit: z.number({ error: 'expected a whole number from 1 to 100' }).int('expected a whole number from 1 to 100')
      .min(1, 'expected a whole number from 1 to 100').max(100, 'expected a whole number from 1 to 100').default(5),
  }),
  async run(ctx, args): Promise<CheckLogsResult> {
    const logDir = ctx.config.LOG_DIR;
    const result = await scanLogs({ logDir, now: ctx.clock.now(), windowMs: args.period ?? ctx.config.LOG_CHECK_WINDOW, limit: args.limit });
    return { ...result, logDir };
  },
});
