// Owns flattening: selling every open position of the ledger at market, on the venue it was opened on
// (live trades on Kraken — which needs the process armed — and paper trades on the paper venue). The
// kill switch calls it (its `flatten` hook) after trading is halted, so flatten intents are allowed
// while halted. Each sale goes through the same intent → order → ledger path as the engine's exits.
// A position counts as closed only when the exchange's fills for its sale are booked: a sale whose
// fills Kraken has not listed yet is reported pending (the engine's fill follower books it), and one
// that filled in part leaves the rest open and is reported so — the report never claims more.
import type { AppContext } from '../app/context.js';
import type { Trade } from '../db/schema/index.js';
import { isAppError } from '../errors.js';
import { dec, str, ZERO } from '../money.js';
import { markIntent, writeIntent } from './ledger/intents.js';
import { recordExecution, type RecordOutcome } from './ledger/record-execution.js';
import { openTrades } from './ledger/trades.js';
import { withOrderLock } from './order-lock.js';

export interface FlattenReport {
  ok: boolean;
  summary: string;
  closed: number[];
  failed: Array<{ tradeId: number; error: string }>;
  /** Sales sent whose fills the exchange has not all listed yet: followed up, not yet closed. */
  pending?: Array<{ tradeId: number; note: string }>;
}

async function flattenOne(ctx: AppContext, trade: Trade): Promise<RecordOutcome> {
  const exchange = ctx.exchanges.forMode(trade.mode);
  const intent = await writeIntent(ctx.db, {
    mode: trade.mode, feed: trade.feed, strategy: trade.strategy, symbol: trade.symbol, side: 'sell', purpose: 'flatten', type: 'market',
    quantity: str(dec(trade.quantity)), tradeId: trade.id, at: ctx.clock.now(),
  }, { armed: ctx.config.IS_LIVE });
  if (!intent) throw new Error('the flatten intent could not be written');
  let order;
  try {
    order = await exchange.createOrder({ clientOrderId: intent.clientOrderId, symbol: trade.symbol, side: 'sell', type: 'market', quantity: intent.quantity });
  } catch (err) {
    // As the engine's executor does: only a refusal means nothing was placed. A timeout or network
    // error may have placed the sale, so the intent stays 'sent' for resolution against the exchange
    // (engine start, self-heal) instead of being closed as failed and the position sold twice.
    const refused = isAppError(err, 'rejected') || isAppError(err, 'auth') || isAppError(err, 'halt') || isAppError(err, 'conflict');
    await markIntent(ctx.db, { id: intent.id, status: refused ? 'failed' : 'sent', error: (err as Error).message, at: ctx.clock.now() });
    throw err;
  }
  // capital_buffer from the venue's own balance after the sale, and the other positions at their marks.
  const balances = await exchange.fetchBalances();
  const cash = dec(balances.find((b) => b.asset === ctx.config.QUOTE_CURRENCY)?.free ?? '0');
  const others = (await openTrades(ctx.db, trade.mode)).filter((t) => t.id !== trade.id)
    .reduce((acc, t) => acc.plus(dec(t.quantity).times(ctx.prices.lastCandle(t.symbol)?.close ?? t.entryPrice)), ZERO);
  return recordExecution(ctx.db, {
    intent, order, quoteCurrency: ctx.config.QUOTE_CURRENCY, reservePct: ctx.config.CAPITAL_RESERVE_PCT, at: ctx.clock.now(),
    capitalAtClose: () => ({ uncommittedQuote: cash, equity: cash.plus(others) }),
  });
}

export async function flattenPositions(ctx: AppContext): Promise<FlattenReport> {
  return withOrderLock(ctx, async () => {
    const open = [...(await openTrades(ctx.db, 'live')), ...(await openTrades(ctx.db, 'paper'))];
    const closed: number[] = [];
    const failed: FlattenReport['failed'] = [];
    const pending: Array<{ tradeId: number; note: string }> = [];
    for (const trade of open) {
      try {
        const outcome = await flattenOne(ctx, trade);
        if (outcome.intentStatus === 'open') {
          pending.push({ tradeId: trade.id, note: 'sale sent; the exchange has not listed all its fills yet (followed up)' });
        } else if (outcome.partialExit) {
          failed.push({ tradeId: trade.id, error: `sold ${outcome.partialExit.filled.toFixed()} of ${dec(trade.quantity).toFixed()}; ${outcome.partialExit.remaining.toFixed()} is still open` });
        } else if (outcome.intentStatus !== 'filled' || !outcome.execution) {
          failed.push({ tradeId: trade.id, error: `the sale ended ${outcome.intentStatus} with nothing filled` });
        } else {
          closed.push(trade.id);
        }
      } catch (err) {
        failed.push({ tradeId: trade.id, error: (err as Error).message });
        ctx.logger.error({ err, tradeId: trade.id }, 'flatten: could not close a position');
      }
    }
    const parts = [
      ...(failed.length > 0 ? [`failed: ${failed.map((f) => `#${f.tradeId} (${f.error})`).join(', ')}`] : []),
      ...(pending.length > 0 ? [`awaiting the exchange's fills: ${pending.map((p) => `#${p.tradeId}`).join(', ')}`] : []),
    ];
    const summary = open.length === 0
      ? 'No open positions to close.'
      : `Closed ${closed.length} of ${open.length} open positions${parts.length > 0 ? `; ${parts.join('; ')}` : ''}.`;
    return { ok: failed.length === 0 && pending.length === 0, summary, closed, failed, pending };
  });
}
