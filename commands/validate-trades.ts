// `validate-trades`: checks every closed trade in the ledger (the checklist's validate_closed_trades)
// and names each offending trade with its problems. ok=false (exit 1) when any trade fails.
import { z } from 'zod';
import { validateClosedTrades, type TradeProblem } from '../src/engine/ledger/validate-trades.js';
import { defineCommand } from './define.js';

export interface ValidateTradesResult {
  ok: boolean;
  checked: number;
  offending: TradeProblem[];
}

export const validateTradesCommand = defineCommand({
  name: 'validate-trades',
  summary: 'check every closed trade: exit after entry, PnL consistent with prices, size and fees, capital_buffer set and non-negative',
  role: 'reader',
  args: z.object({}).strict(),
  async run(ctx): Promise<ValidateTradesResult> {
    const { checked, offending } = await validateClosedTrades(ctx.db);
    return { ok: offending.length === 0, checked, offending };
  },
});

export function renderValidateTrades(r: ValidateTradesResult): string {
  if (r.ok) return `validate-trades: ${r.checked} closed trade${r.checked === 1 ? '' : 's'} checked, all consistent`;
  const lines = [`validate-trades: ${r.offending.length} of ${r.checked} closed trades failed`];
  for (const t of r.offending) {
    lines.push(`  trade #${t.tradeId} (${t.symbol}, ${t.strategy}, ${t.mode}/${t.feed}):`);
    for (const p of t.problems) lines.push(`    - ${p}`);
  }
  return lines.join('\n');
}
