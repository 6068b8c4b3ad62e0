// Owns flattening: selling every open position of the ledger at market, on the venue it was opened on
// (live trades on Kraken — which needs the process armed — and paper trades on the paper venue). The
// kill switch calls it (its `flatten` hook) after trading is halted, so flatten intents are allowed
// while halted. Each sale goes through the same intent → order → ledger path as the engine's exits.
import type { AppContext } from '../app/context.js';
import type { Trade } from '../db/schema/index.js';
import { isAppError } from '../errors.js';
import { dec, str, ZERO } from '../money.js';
import { markIntent, writeIntent } from './ledger/intents.js';
import { recordExecution } from './ledger/record-execution.js';
import { openTrades } from './ledger/trades.js';
import { withOrderLock } from './order-lock.js';

export interface FlattenReport {
  ok: boolean;
  summary: string;
  closed: number[];
  failed: Array<{ tradeId: number; error: string }>;
}

async function flattenOne(ctx: AppContext, trade: Trade): Promise<void> {
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
  await recordExecution(ctx.db, {
    intent, order, quoteCurrency: ctx.config.QUOTE_CURRENCY, reservePct: ctx.config.CAPITAL_RESERVE_PCT, at: ctx.clock.now(),
    capitalAtClose: () => ({ uncommittedQuote: cash, equity: cash.plus(others) }),
  });
}

export async function flattenPositions(ctx: AppContext): Promise<FlattenReport> {
  return withOrderLock(ctx, async () => {
    const open = [...(await openTrades(ctx.db, 'live')), ...(await openTrades(ctx.db, 'paper'))];
    const closed: number[] = [];
    const failed: FlattenReport['failed'] = [];
    for (const trade of open) {
      try {
        await flattenOne(ctx, trade);
        closed.push(trade.id);
      } catch (err) {
        failed.push({ tradeId: trade.id, error: (err as Error).message });
        ctx.logger.error({ err, tradeId: trade.id }, 'flatten: could not close a position');
      }
    }
    const summary = open.length === 0
      ? 'No open positions to close.'
      : `Closed ${closed.length} of ${open.length} open positions${failed.length > 0 ? `; failed: ${failed.map((f) => `#${f.tradeId} (${f.error})`).join(', ')}` : ''}.`;
    return { ok: failed.length === 0, summary, closed, failed };
  });
}
