// /trades and `ctb trades [--closed N]`: the open trades with mark, unrealised PnL and age, totals per
// book, the exits queued for them, and the last N closed trades. Anyone may read.
import { z } from 'zod';
import { pendingExits, type PendingExitRow } from '../src/services/exits/pending-exits.js';
import { CLOSED_MAX, listTrades, type TradesView } from '../src/services/trades/list-trades.js';
import { defineCommand } from './define.js';

export interface TradesResult extends TradesView {
  ok: true;
  /** Exits confirmed and not yet ended (queued for the engine, or being carried out), oldest first. */
  pendingExits: PendingExitRow[];
}

export const tradesCommand = defineCommand({
  name: 'trades',
  summary: 'open trades with mark price, unrealised PnL and age, totals per book; --closed N the last N closed',
  role: 'reader',
  args: z.object({
    closed: z.coerce.number({ error: `expected a whole number of closed trades from 1 to ${CLOSED_MAX}` })
      .int(`expected a whole number of closed trades from 1 to ${CLOSED_MAX}`).min(1, `expected at least 1 closed trade`).max(CLOSED_MAX, `expected at most ${CLOSED_MAX} closed trades`).optional(),
  }).strict(),
  async run(ctx, args): Promise<TradesResult> {
    const [view, exits] = await Promise.all([listTrades(ctx, args.closed === undefined ? {} : { closed: args.closed }), pendingExits(ctx)]);
    return { ok: true, ...view, pendingExits: exits };
  },
});
