// `ctb validate-trades [--json]`: exit 0 when every closed trade is consistent, 1 naming those that are not.
import { renderValidateTrades, validateTradesCommand } from '../../../commands/validate-trades.js';
import type { CliRegistration } from '../program.js';
import { runCliCommand } from '../with-context.js';

export const validateTradesCli: CliRegistration = {
  register(program, io, setExit) {
    program
      .command('validate-trades')
      .description('check every closed trade: exit after entry, PnL consistent with prices, size and fees, capital_buffer set and non-negative')
      .option('--json', 'print the result as JSON', false)
      .action(async (opts: { json: boolean }) => {
        setExit(await runCliCommand(io, validateTradesCommand, {}, { json: opts.json, render: (r) => renderValidateTrades(r), progress: 'checking every closed trade' }));
      });
  },
};
