// Owns turning an exchange's answer about an order into ledger rows, in one transaction: the fills,
// the trade they open or close (with fees, realized PnL and capital_buffer), and the intent's outcome.
// Recording the same answer twice changes nothing (fills are unique per venue trade id, a trade per
// entry intent, and a close applies only to an open trade), so a restart may safely re-record.
// An order counts as done only when the fills the exchange listed add up to what it says filled:
// until then its fills are booked as they come and the intent stays 'open', to be followed up.
import { sql } from 'drizzle-orm';
import { type Db } from '../../db/client.js';
import { bookedState, bookedTrade, bookExecution, entryTradeInsert, fillsInsert, noTradeCte, toTrade, tradeClose, tradeSplit } from '../../db/queries/ledger-booking.js';
import { NEVER_PLACED_ERROR } from '../../db/queries/ledger-intents.js';
import type { Fill, OrderIntent, Trade } from '../../db/schema/index.js';
import { isUnsettled } from '../../domain/order-status.js';
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
  /**
   * An exit that filled only part of the position: `trade` is the closed part (split off), and the
   * original trade stays open with `remaining`.
   */
  partialExit: { tradeId: number; filled: Decimal; remaining: Decimal } | null;
  /**
   * This call moved the intent from unresolved to final: the caller applies the execution to its
   * portfolio. False when the intent was final already (a repeat) or stays unresolved.
   */
  applied: boolean;
}

export function feeInQuote(t: ExchangeTrade, quote: string): Decimal {
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

/** The listed fills add up to what the exchange says filled: nothing more to learn about them. */
export function fillsComplete(order: OrderState, execution: Execution | null): boolean {
  return (execution?.quantity ?? ZERO).eq(dec(order.filledQuantity));
}

function intentStatusFor(order: OrderState, execution: Execution | null): OrderIntent['status'] {
  if (order.status === 'rejected') return 'rejected';
  // Filled (in part or whole) but not every fill listed yet: stays open until the rest is booked.
  if (order.status === 'open' || !fillsComplete(order, execution)) return 'open';
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

// The statements live in db/queries/ledger-booking.ts; paper orders compose the same pieces.
export { entryTradeInsert, fillsInsert, toTrade, tradeClose };

/**
 * One statement (so one round trip and one atomic commit): the fills, the trade it opens or closes,
 * the intent's outcome. Data-modifying CTEs all run to completion whether or not the result reads them.
 */
export async function recordExecution(db: Db, input: RecordExecutionInput): Promise<RecordOutcome> {
  const { intent, order } = input;
  const execution = summarise(order.trades, input.quoteCurrency);
  const status = intentStatusFor(order, execution);
  const final = status !== 'open';
  const quote = input.quoteCurrency;
  const fillsStatement = fillsInsert(intent, sql`${intent.id}::bigint`, order, quote, sql`true`, feeInQuote);
  const fillsCte = fillsStatement ? sql`f as (${fillsStatement}),` : sql``;
  let tradeCte = noTradeCte();
  let expectTrade = false;
  let partial = false;
  if (final && execution && intent.purpose === 'entry') {
    expectTrade = true;
    tradeCte = sql`t as (${entryTradeInsert(intent, sql`${intent.id}::bigint`, execution)})`;
  } else if (final && execution && intent.tradeId !== null) {
    expectTrade = true;
    const capital = input.capitalAtClose?.(execution);
    if (!capital) throw new Error('recordExecution: an exit needs capitalAtClose to set capital_buffer');
    const buffer = str(capitalBuffer(capital, input.reservePct));
    // The exit order was for the whole position (its intent's quantity): less filled means a part stays open.
    partial = execution.quantity.lt(dec(intent.quantity));
    if (!partial) {
      // Realized PnL in exact numeric arithmetic, from the stored entry values.
      tradeCte = sql`t as (${tradeClose(intent.tradeId, sql`${intent.id}::bigint`, execution, buffer)})`;
    } else {
      // Split: the filled part becomes a closed trade of its own (split_from_trade_id → the original),
      // carrying its share of the entry fee; the original stays open with the rest. Splits once per
      // exit order (exit_intent_id is unique), so re-recording the same answer changes nothing.
      tradeCte = tradeSplit(intent.tradeId, sql`${intent.id}::bigint`, execution, buffer);
    }
  }
  const rows = await bookExecution(db, { intent, status, exchangeOrderId: order.exchangeOrderId, at: input.at, fillsCte, tradeCte });
  const applied = final && Number(rows[0]?.intent_updated ?? 0) > 0;
  let trade = rows[0] && rows[0].id !== null && rows[0].id !== undefined ? toTrade(rows[0]) : null;
  if (!trade && expectTrade) {
    // Recorded before (a restart re-recording): read the trade as it stands.
    trade = await bookedTrade(db, intent, partial);
  }
  const partialExit = partial && execution && intent.tradeId !== null && trade
    ? { tradeId: intent.tradeId, filled: execution.quantity, remaining: dec(intent.quantity).minus(execution.quantity) }
    : null;
  return { intentStatus: status, execution, trade, partialExit, applied };
}

/**
 * The outcome the ledger holds for `intent`, booked by another than the caller (a fill follower or a
 * streamed execution, a recovery pass) while the caller's own answer from the exchange was lost or
 * refused: its status now, the fills booked for it, and the trade they opened or closed. `applied` is
 * false: whoever booked it applied it to their book. Null when nothing the venue said is booked: no
 * such intent, or recovery's close as never placed (a guess, not the venue's answer).
 */
export async function bookedOutcome(db: Db, intent: OrderIntent): Promise<RecordOutcome | null> {
  const booked = await bookedState(db, intent);
  if (!booked || (booked.status === 'failed' && booked.error === NEVER_PLACED_ERROR)) return null;
  const execution = summariseBooked(booked.fills);
  const closes = execution !== null && !isUnsettled(booked.status) && (intent.purpose === 'entry' || intent.tradeId !== null);
  // As recordExecution judges it: an exit for less than its intent's quantity split the position.
  const partial = closes && intent.purpose !== 'entry' && execution.quantity.lt(dec(intent.quantity));
  const trade = closes ? await bookedTrade(db, intent, partial) : null;
  const partialExit = partial && execution && trade && intent.tradeId !== null
    ? { tradeId: intent.tradeId, filled: execution.quantity, remaining: dec(intent.quantity).minus(execution.quantity) }
    : null;
  return { intentStatus: booked.status, execution, trade, partialExit, applied: false };
}

/** Booked fills summed as summarise() sums the exchange's (their fee is in the quote already). */
function summariseBooked(booked: Fill[]): Execution | null {
  let qty = ZERO;
  let value = ZERO;
  let fee = ZERO;
  let at: Date | null = null;
  for (const f of booked) {
    qty = qty.plus(f.quantity);
    value = value.plus(dec(f.quantity).times(f.price));
    fee = fee.plus(f.fee);
    if (!at || f.filledAt > at) at = f.filledAt;
  }
  if (!at || qty.lte(0)) return null;
  return { quantity: qty, averagePrice: value.div(qty).toDecimalPlaces(18), feeQuote: fee, at };
}
