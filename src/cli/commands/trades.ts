// `ctb trades [--closed N] [--json]` and `ctb balance [--json]`: open trades with their PnL, and the
// paper book beside Kraken's balances.
import { balanceCommand } from '../../../commands/balance.js';
import { tradesCommand } from '../../../commands/trades.js';
import { renderBalance, renderTrades } from '../render/trades.js';
import type { CliRegistration } from '../program.js';
import { runCliCommand } from '../with-context.js';

export const tradesCli: CliRegistration = {
  register(program, io, setExit) {
    program
      .command('trades')
      .description('open trades: size, entry, mark price, unrealised PnL, age, strategy, book; totals per book')
      .option('--closed <n>', 'also the last n closed trades (1-100)')
      .option('--json', 'machine-readable output', false)
      .action(async (opts: { closed?: string; json: boolean }) =>
        setExit(await runCliCommand(io, tradesCommand, opts.closed === undefined ? {} : { closed: opts.closed }, { json: opts.json, render: renderTrades })));
    program
      .command('balance')
      .description("the paper book, and Kraken's balances (bot-managed vs the whole account) when a key is set")
      .option('--json', 'machine-readable output', false)
      .action(async (opts: { json: boolean }) => setExit(await runCliCommand(io, balanceCommand, {}, { json: opts.json, render: renderBalance })));
  },
};
