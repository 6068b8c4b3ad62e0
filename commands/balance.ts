// /balance and `ctb balance`: the paper book, and Kraken's balances (bot-managed vs the whole
// account) when a key is set. Anyone may read. A Kraken read that failed is a failed check (exit 1).
import { z } from 'zod';
import { readBalances, type BalanceView } from '../src/services/trades/balances.js';
import { defineCommand } from './define.js';

export interface BalanceResult extends BalanceView {
  ok: boolean;
}

export const balanceCommand = defineCommand({
  name: 'balance',
  summary: "the paper book, and Kraken's balances (bot-managed vs the whole account) when a key is set",
  role: 'reader',
  args: z.object({}).strict(),
  async run(ctx): Promise<BalanceResult> {
    const view = await readBalances(ctx);
    return { ok: view.kraken.status !== 'error', ...view };
  },
});
