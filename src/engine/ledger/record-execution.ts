// Owns turning an exchange's answer about an order into ledger rows, in one transaction: the fills,
// the trade they open or close (with fees, realized PnL and capital_buffer), and the intent's outcome.
// Recording the same answer twice changes nothing (fills are unique per venue trade id, a trade per
// entry intent, and a close applies only to an open trade), so a restart may safely re-record.
// An order counts as done only when the fills the exchange listed add up to what it says filled:
// until then its fills are booked as they come and the intent stays 'open', to be followed up.
import { and, eq, isNull, sql, type SQL } from 'drizzle-orm';
import { asyncCommitCte } from '../../db/async-commit.js';
import { type Db } from '../../db/client.js';
import { executePrepared } from '../../db/prepared.js';
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

/** A trade row as the driver returns it (snake_case columns) → Trade. */
export function toTrade(r: Record<string, unknown>): Trade {
  const text = (v: unknown) => (v === null || v === undefined ? null : String(v));
  const date = (v: unknown) => (v === null || v === undefined ? null : new Date(v as string));
  return {
    id: Number(r.id), mode: r.mode as Trade['mode'], feed: r.feed as Trade['feed'], strategy: String(r.strategy), symbol: String(r.symbol),
    status: r.status as Trade['status'], quantity: String(r.quantity), entryPrice: String(r.entry_price), entryFee: String(r.entry_fee),
    entryAt: date(r.entry_at)!, exitPrice: text(r.exit_price), exitFee: text(r.exit_fee), exitAt: date(r.exit_at), realizedPnl: text(r.realized_pnl),
    capitalBuffer: text(r.capital_buffer), entryIntentId: Number(r.entry_intent_id), exitIntentId: r.exit_intent_id === null ? null : Number(r.exit_intent_id),
    splitFromTradeId: r.split_from_trade_id === null || r.split_from_trade_id === undefined ? null : Number(r.split_from_trade_id),
  };
}

/**
 * The insert of an order's listed fills (a trade id booked before is skipped), or null when none
 * are listed. `intentId` is the intent's id as SQL; nothing is written unless `guard` holds.
 */
export function fillsInsert(
  intent: Pick<OrderIntent, 'clientOrderId' | 'mode' | 'feed'>, intentId: SQL, order: OrderState, quote: string, guard: SQL = sql`true`,
): SQL | null {
  if (order.trades.length === 0) return null;
  const rows = order.trades.map((t) => sql`(${intentId}, ${intent.clientOrderId}, ${t.id}, ${t.orderId || order.exchangeOrderId}, ${intent.mode}, ${intent.feed},
    ${t.symbol}, ${t.side}, ${t.quantity}::numeric, ${t.price}::numeric, ${str(feeInQuote(t, quote))}::numeric, ${quote},
    ${t.chargedFee ?? t.fee}::numeric, ${t.chargedFeeCurrency ?? t.feeCurrency}, ${t.timestamp.toISOString()}::timestamptz)`);
  return sql`insert into ${fills} (intent_id, client_order_id, exchange_trade_id, exchange_order_id, mode, feed, symbol, side, quantity, price, fee, fee_currency,
      charged_fee, charged_fee_currency, filled_at)
    select * from (values ${sql.join(rows, sql`, `)}) as v where ${guard} on conflict do nothing returning 1`;
}

/** The insert of the trade an entry opens (once per entry intent), returning it. */
export function entryTradeInsert(intent: Pick<OrderIntent, 'mode' | 'feed' | 'strategy' | 'symbol'>, intentId: SQL, execution: Execution, guard: SQL = sql`true`): SQL {
  return sql`insert into ${trades} (mode, feed, strategy, symbol, status, quantity, entry_price, entry_fee, entry_at, entry_intent_id)
    select ${intent.mode}, ${intent.feed}, ${intent.strategy}, ${intent.symbol}, 'open', ${str(execution.quantity)}::numeric,
      ${str(execution.averagePrice)}::numeric, ${str(execution.feeQuote)}::numeric, ${execution.at.toISOString()}::timestamptz, ${intentId}
    where ${guard}
    on conflict (entry_intent_id) where split_from_trade_id is null do nothing returning *`;
}

/** The close of a whole open trade by an exit, returning it: realized PnL in exact numeric arithmetic from the stored entry values. */
export function tradeClose(tradeId: number, intentId: SQL, execution: Execution, capitalBufferText: string, guard: SQL = sql`true`): SQL {
  const exitPrice = str(execution.averagePrice);
  const exitFee = str(execution.feeQuote);
  return sql`update ${trades} set status = 'closed', exit_price = ${exitPrice}::numeric, exit_fee = ${exitFee}::numeric,
      exit_at = ${execution.at.toISOString()}::timestamptz, exit_intent_id = ${intentId}, capital_buffer = ${capitalBufferText}::numeric,
      realized_pnl = (${exitPrice}::numeric - entry_price) * quantity - entry_fee - ${exitFee}::numeric
    where id = ${tradeId}::bigint and status = 'open' and ${guard} returning *`;
}

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
  const fillsStatement = fillsInsert(intent, sql`${intent.id}::bigint`, order, quote);
  const fillsCte = fillsStatement ? sql`f as (${fillsStatement}),` : sql``;
  let tradeCte = sql`t as (select * from ${trades} where false)`;
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
    const exitPrice = str(execution.averagePrice);
    const exitFee = str(execution.feeQuote);
    const exitAt = execution.at.toISOString();
    // The exit order was for the whole position (its intent's quantity): less filled means a part stays open.
    partial = execution.quantity.lt(dec(intent.quantity));
    if (!partial) {
      // Realized PnL in exact numeric arithmetic, from the stored entry values.
      tradeCte = sql`t as (${tradeClose(intent.tradeId, sql`${intent.id}::bigint`, execution, buffer)})`;
    } else {
      // Split: the filled part becomes a closed trade of its own (split_from_trade_id → the original),
      // carrying its share of the entry fee; the original stays open with the rest. Splits once per
      // exit order (exit_intent_id is unique), so re-recording the same answer changes nothing.
      const filledQty = str(execution.quantity);
      tradeCte = sql`src as (
          select id, entry_fee, quantity, round(entry_fee * ${filledQty}::numeric / quantity, 18) as part_fee from ${trades}
          where id = ${intent.tradeId}::bigint and status = 'open' and quantity > ${filledQty}::numeric
            and not exists (select 1 from ${trades} where exit_intent_id = ${intent.id}::bigint)
          for update),
        rest as (update ${trades} set quantity = src.quantity - ${filledQty}::numeric, entry_fee = src.entry_fee - src.part_fee
          from src where ${trades.id} = src.id returning ${trades.id}),
        t as (insert into ${trades} (mode, feed, strategy, symbol, status, quantity, entry_price, entry_fee, entry_at, entry_intent_id,
            split_from_trade_id, exit_price, exit_fee, exit_at, exit_intent_id, capital_buffer, realized_pnl)
          select o.mode, o.feed, o.strategy, o.symbol, 'closed', ${filledQty}::numeric, o.entry_price, src.part_fee, o.entry_at, o.entry_intent_id,
            o.id, ${exitPrice}::numeric, ${exitFee}::numeric, ${exitAt}::timestamptz, ${intent.id}::bigint, ${buffer}::numeric,
            (${exitPrice}::numeric - o.entry_price) * ${filledQty}::numeric - src.part_fee - ${exitFee}::numeric
          from src join ${trades} o on o.id = src.id
          returning *)`;
    }
  }
  const setTrade = intent.purpose === 'entry' ? sql`, trade_id = coalesce((select id from t), trade_id)` : sql``;
  // Paper records share the paper venue's WAL: they may commit without waiting for the flush.
  const paper = intent.mode === 'paper';
  // The intent changes only while unresolved: a final intent is never reopened or re-applied.
  const rows = await executePrepared<Record<string, unknown>>(db, sql`
    with ${paper ? sql`${asyncCommitCte},` : sql``} ${fillsCte} ${tradeCte},
    i as (update ${orderIntents} set status = ${status}, updated_at = ${input.at.toISOString()}::timestamptz,
      exchange_order_id = ${order.exchangeOrderId} ${setTrade}
      where id = ${intent.id}::bigint and status in ('pending', 'sent', 'open') returning id)
    select (select count(*) from i)::int as intent_updated, t.* from ${paper ? sql`s` : sql`(select 1) as one`} left join t on true`);
  const applied = final && Number(rows[0]?.intent_updated ?? 0) > 0;
  let trade = rows[0] && rows[0].id !== null && rows[0].id !== undefined ? toTrade(rows[0]) : null;
  if (!trade && expectTrade) {
    // Recorded before (a restart re-recording): read the trade as it stands.
    const where = intent.purpose === 'entry'
      ? and(eq(trades.entryIntentId, intent.id), isNull(trades.splitFromTradeId))
      : partial ? eq(trades.exitIntentId, intent.id) : eq(trades.id, intent.tradeId!);
    trade = (await db.select().from(trades).where(where))[0] ?? null;
  }
  const partialExit = partial && execution && intent.tradeId !== null && trade
    ? { tradeId: intent.tradeId, filled: execution.quantity, remaining: dec(intent.quantity).minus(execution.quantity) }
    : null;
  return { intentStatus: status, execution, trade, partialExit, applied };
}
