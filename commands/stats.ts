// `stats [24h|7d|30d|all]`: the live stats (the checklist's show_live_stats) — counts, ROI, PnL,
// fees, drawdown and exposure per book, paper and live side by side, replay apart. Read-only.
import { z } from 'zod';
import { computeStats, type StatsReport } from '../src/services/stats/compute-stats.js';
import { STATS_PERIODS, windowFor } from '../src/services/stats/periods.js';
import { defineCommand } from './define.js';

// The period words as a person types them — the terminal reads them with Slack's own parser.
export { readStatsPeriod, statsPeriodProblem } from '../src/services/stats/periods.js';

export interface StatsResult extends StatsReport {
  ok: true;
}

export const statsArgs = z.object({
  period: z
    .enum(STATS_PERIODS, { error: (issue) => `period: expected one of ${STATS_PERIODS.join(', ')}, got "${String(issue.input)}"` })
    .default('all'),
});

export const statsCommand = defineCommand({
  name: 'stats',
  summary: 'trade counts, ROI, PnL, fees, drawdown and exposure — paper and live side by side',
  role: 'reader',
  args: statsArgs,
  async run(ctx, args): Promise<StatsResult> {
    const report = await computeStats(ctx, { window: windowFor(args.period, ctx.clock.now()), period: args.period });
    return { ok: true, ...report };
  },
});
