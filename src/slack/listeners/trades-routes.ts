// /trades [closed N] and /balance: reads anyone may run; the answer only the asker sees.
import { balanceCommand } from '../../../commands/balance.js';
import { tradesCommand } from '../../../commands/trades.js';
import { renderBalance, renderTrades } from '../views/trades.js';
import { commandRoute, usageError } from './routes.js';
import type { SlashRequest, SlashSubcommand } from './types.js';

function tradesArgs(req: SlashRequest): { closed?: string } {
  if (req.rest === '') return {};
  const [first = '', n, ...others] = req.words;
  if (first.toLowerCase() !== 'closed' || n === undefined || others.length > 0) throw usageError(`\`/trades\` takes nothing, or \`closed <n>\` — got "${req.rest}".`);
  return { closed: n };
}

export const tradesRoute: SlashSubcommand = commandRoute({
  name: null,
  usage: '/trades [closed <n>]',
  summary: 'Open trades with mark, unrealised PnL and age; closed <n> adds the last n closed',
  command: tradesCommand,
  args: tradesArgs,
  render: renderTrades,
});

export const balanceRoute: SlashSubcommand = commandRoute({
  name: null,
  usage: '/balance',
  summary: "The paper book, and Kraken's balances (bot-managed vs the whole account) when a key is set",
  command: balanceCommand,
  render: renderBalance,
});
