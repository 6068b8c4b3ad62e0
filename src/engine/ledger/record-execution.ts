// Owns turning an exchange's answer about an order into ledger rows, in one transaction: the fills,
// the trade they open or close (with fees, realized PnL and capital_buffer), and the intent's outcome.
// Recording the same answer twice changes nothing (fills are unique per venue trade id, a trade per
// entry intent, and a close applies only to an open trade), so a restart may safely re-record.
import { and, eq, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { fills, orderIntents, trades, type OrderIntent, type Trade } from '../../db/schema/index.js';
import type { ExchangeTrade, OrderState } from '../../exchange/types.js';
import { Decimal, ZERO, dec, str } from '../../money.js';
import { capitalBuffer, type CapitalAtClose } from './capital-buffer.js';

export interface Execution {
  quantity: Decimal;
  averagePrice: Decimal;
  /** Fees converted to the quote currency. */
  feeQuote: Decimal;
  at: Date;
}

export interface RecordOutcome {
  intentStatus: OrderIntent['status'];
  execution: Execution | null;
  /** The trade opened (entry) or closed (exit) by this order, when it was final. */
  trade: Trade | null;
}

function feeInQuote(t: ExchangeTrade, quote: string): Decimal {
  const fee = dec(t.fee);
  const base = t.symbol.split('/')[0];
  // Kraken charges in quote by default; a fee charged in the base asset is worth fee × price.
  return t.feeCurrency && t.feeCurrency === base && t.feeCurrency !== quote ? fee.times(t.price) : fee;
}

export function summarise(tradesOfOrder: ExchangeTrade[], quote: string): Execution | null {
  if (tradesOfOrder.length === 0) return null;
  let qty = ZERO;
  let value = ZERO;
  let fee = ZERO;
  let at = tradesOfOrder[0]!.timestamp;
  for (const t of tradesOfOrder) {
    qty = qty.plus(t.quantity);
    value = value.plus(dec(t.quantity).times(t.price));
    fee = fee.plus(feeInQuote(t, quote));
    if (t.timestamp > at) at = t.timestamp;
  }
  if (qty.lte(0)) return null;
  return { quantity: qty, averagePrice: value.div(qty).toDecimalPlaces(18), feeQuote: fee, at };
}

function intentStatusFor(order: OrderState, execution: Execution | null): OrderIntent['status'] {
  if (order.status === 'closed') return 'filled';
  if (order.status === 'open') return 'open';
  if (order.status === 'rejected') return 'rejected';
  return execution ? 'filled' : 'canceled'; // canceled after a partial fill: what filled is ours
}

export interface RecordExecutionInput {
  intent: OrderIntent;
  order: OrderState;
  quoteCurrency: string;
  /** For exits: the capital right after the close, for capital_buffer. Computed by the caller. */
  capitalAtClose?: (execution: Execution) => CapitalAtClose;
  reservePct: number;
  at: Date;
}

export async function recordExecution(db: Db, input: RecordExecutionInput): Promise<RecordOutcome> {
  const { intent, order } = input;
  const execution = summarise(order.trades, input.quoteCurrency);
  const status = intentStatusFor(order, execution);
  const final = status !== 'open';
  return db.transaction(async (tx) => {
    if (order.trades.length > 0) {
      await tx.insert(fills).values(order.trades.map((t) => ({
        intentId: intent.id, clientOrderId: intent.clientOrderId, exchangeTradeId: t.id, exchangeOrderId: t.orderId || order.exchangeOrderId,
        mode: intent.mode, feed: intent.feed, symbol: t.symbol, side: t.side, quantity: t.quantity, price: t.price,
        fee: str(feeInQuote(t, input.quoteCurrency)), feeCurrency: input.quoteCurrency, filledAt: t.timestamp,
      }))).onConflictDoNothing();
    }
    let trade: Trade | null = null;
    if (final && execution && intent.purpose === 'entry') {
      const inserted = await tx.insert(trades).values({
        mode: intent.mode, feed: intent.feed, strategy: intent.strategy, symbol: intent.symbol, status: 'open',
        quantity: str(execution.quantity), entryPrice: str(execution.averagePrice), entryFee: str(execution.feeQuote),
        entryAt: execution.at, entryIntentId: intent.id,
      }).onConflictDoNothing().returning();
      trade = inserted[0] ?? (await tx.select().from(trades).where(eq(trades.entryIntentId, intent.id)))[0] ?? null;
    } else if (final && execution && intent.tradeId !== null) {
      const capital = input.capitalAtClose?.(execution);
      if (!capital) throw new Error('recordExecution: an exit needs capitalAtClose to set capital_buffer');
      const buffer = capitalBuffer(capital, input.reservePct);
      const closed = await tx.update(trades).set({
        status: 'closed', exitPrice: str(execution.averagePrice), exitFee: str(execution.feeQuote), exitAt: execution.at,
        exitIntentId: intent.id, capitalBuffer: str(buffer),
        // Exact numeric arithmetic in the database, from the stored entry values.
        realizedPnl: sql`(${str(execution.averagePrice)}::numeric - ${trades.entryPrice}) * ${trades.quantity} - ${trades.entryFee} - ${str(execution.feeQuote)}::numeric`,
      }).where(and(eq(trades.id, intent.tradeId), eq(trades.status, 'open'))).returning();
      trade = closed[0] ?? (await tx.select().from(trades).where(eq(trades.id, intent.tradeId)))[0] ?? null;
    }
    await tx.update(orderIntents).set({
      status, updatedAt: input.at, exchangeOrderId: order.exchangeOrderId,
      ...(trade && intent.purpose === 'entry' ? { tradeId: trade.id } : {}),
    }).where(eq(orderIntents.id, intent.id));
    return { intentStatus: status, execution, trade };
  });
}
