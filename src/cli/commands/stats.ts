// `ctb stats [24h|7d|30d|all] [--period …] [--json] [--chart file.png]`: the live stats from the
// ledger, and optionally the equity-and-drawdown chart of the same window as a PNG.
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { runCommand } from '../../../commands/run-command.js';
import { drawStatsChart, readStatsPeriod, statsCommand, statsPeriodProblem, type StatsResult } from '../../../commands/stats.js';
import { AppError } from '../../errors.js';
import type { CliIo } from '../io.js';
import { withSpinner } from '../spinner.js';
import { addPeriod, periodOrExit, type PeriodOptionSpec } from '../period-option.js';
import type { CliRegistration } from '../program.js';
import { cliActor, printError, runCliCommand, withCliContext } from '../with-context.js';

interface StatsCliOptions {
  period: string;
  json: boolean;
  chart?: string;
}

const PERIOD: PeriodOptionSpec = { describe: '24h, 7d, 30d or all (default all)' };

/** The text renderer and its colours (picocolors), imported when text is asked for: --json needs neither. */
async function textRenderer(io: CliIo): Promise<(result: StatsResult) => string> {
  const [{ renderStatsText }, { styleFor }] = await Promise.all([import('../render/stats-text.js'), import('../render/style.js')]);
  return (result) => renderStatsText(result, styleFor(io));
}

/** What --json passes for the text renderer: the result is printed as JSON, never rendered. */
const NO_TEXT = (): string => {
  throw new Error('stats --json prints JSON: no text to render');
};

async function statsWithChart(io: CliIo, opts: StatsCliOptions & { chart: string }): Promise<number> {
  const file = resolve(io.cwd, opts.chart);
  if (!file.toLowerCase().endsWith('.png')) {
    return printError(io, new AppError('usage', 'bad_chart_file', `--chart: expected a file name ending in .png, got "${opts.chart}"`), undefined, opts.json);
  }
  const render = opts.json ? NO_TEXT : await textRenderer(io);
  return withCliContext(io, async (ctx, config) => {
    try {
      const { result, chart } = await withSpinner(io, 'computing stats and drawing the chart', opts.json, async () => {
        const stats = await runCommand(statsCommand, ctx, cliActor(), { period: opts.period });
        const title = `Equity and drawdown — ${stats.period === 'all' ? 'all time' : `last ${stats.period}`}`;
        return { result: stats, chart: await drawStatsChart(ctx, stats, title) };
      });
      if (chart) {
        try {
          writeFileSync(file, chart.png);
        } catch (err) {
          throw new AppError('usage', 'chart_not_written', `Could not write the chart to ${file}: ${(err as Error).message}.`, {
            hint: 'Give a path in a directory that exists and that you may write to.',
          });
        }
      }
      const note = chart
        ? `chart written to ${file} (${chart.width}×${chart.height}, ${chart.points} points, ${chart.markers} entries and exits marked)`
        : 'no chart: no equity snapshot falls in this period';
      const out: StatsResult & { chart: { file: string; points: number; markers: number } | null } = {
        ...result, chart: chart ? { file, points: chart.points, markers: chart.markers } : null,
      };
      io.stdout.write(opts.json ? `${JSON.stringify(out, null, 2)}\n` : `${render(result)}\n\n${note}\n`);
      return 0;
    } catch (err) {
      return printError(io, err, config, opts.json);
    }
  }, opts.json);
}

export const statsCli: CliRegistration = {
  register(program, io, setExit) {
    const stats = program
      .command('stats')
      .description('trade counts, ROI, PnL, fees, drawdown and exposure — paper and live side by side');
    addPeriod(stats, PERIOD)
      .option('--json', 'print the result as JSON', false)
      .option('--chart <file.png>', 'also write the equity-and-drawdown chart of the period as a PNG')
      .action(async (positional: string | undefined, raw: Omit<StatsCliOptions, 'period'> & { period?: string }) => {
        const asked = periodOrExit(io, 'stats', positional, raw, PERIOD);
        if (typeof asked === 'number') return setExit(asked);
        // The period words Slack's /stats takes, read by the same function.
        const period = asked.period === undefined ? 'all' : readStatsPeriod(asked.period);
        if (period === undefined) {
          return setExit(printError(io, new AppError('usage', 'bad_period', `period: ${statsPeriodProblem(asked.period!)}`), undefined, raw.json));
        }
        const opts: StatsCliOptions = { ...raw, period };
        if (opts.chart !== undefined) return setExit(await statsWithChart(io, { ...opts, chart: opts.chart }));
        const render = opts.json ? NO_TEXT : await textRenderer(io);
        setExit(await runCliCommand(io, statsCommand, { period }, { json: opts.json, render, progress: 'computing stats' }));
      });
  },
};
