// `stats [24h|7d|30d|all]`: the live stats (the checklist's show_live_stats) — counts, ROI, PnL,
// fees, drawdown and exposure per book, paper and live side by side, replay apart. Read-only.
import { z } from 'zod';
import { renderEquityChart, type EquityChart } from '../src/services/stats/equity-chart.js';
import { computeStats, type StatsReport } from '../src/services/stats/compute-stats.js';
import { STATS_PERIODS, windowFor } from '../src/domain/stats-periods.js';
import { defineCommand, type CommandContext } from './define.js';

// The period words as a person types them — the terminal reads them with Slack's own parser.
export { readStatsPeriod, statsPeriodProblem } from '../src/domain/stats-periods.js';

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

/**
 * The equity-and-drawdown chart of a stats result's window (`ctb stats --chart`, the /stats thread):
 * part of the stats answer, drawn after its figures are shown so a slow or failed drawing never
 * holds them back, and covered by the stats command's trail row. Null: no snapshot in the window.
 */
export function drawStatsChart(ctx: Pick<CommandContext, 'db' | 'config'>, result: Pick<StatsResult, 'from' | 'to'>, title: string): Promise<EquityChart | null> {
  const window = { from: result.from ? new Date(result.from) : null, to: new Date(result.to) };
  return renderEquityChart(ctx.db, { window, title, currency: ctx.config.QUOTE_CURRENCY });
}
