// `ctb stats [--period 24h|7d|30d|all] [--json]`: the live stats from the ledger.
import { Option } from 'commander';
import { statsCommand } from '../../../commands/stats.js';
import { renderStatsText } from '../render/stats-text.js';
import type { CliRegistration } from '../program.js';
import { runCliCommand } from '../with-context.js';

export const statsCli: CliRegistration = {
  register(program, io, setExit) {
    program
      .command('stats')
      .description('trade counts, ROI, PnL, fees, drawdown and exposure — paper and live side by side')
      .addOption(new Option('--period <period>', 'window: 24h, 7d, 30d or all').default('all'))
      .option('--json', 'print the result as JSON', false)
      .action(async (opts: { period: string; json: boolean }) => {
        setExit(await runCliCommand(io, statsCommand, { period: opts.period }, { json: opts.json, render: (r) => renderStatsText(r) }));
      });
  },
};
