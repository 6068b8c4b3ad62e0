// Queries that book an exchange's answer about an order (engine/ledger/record-execution.ts decides
// what; these write it): the fills insert, the trade an entry opens, the close (whole or split) an
// exit makes, and the one statement that runs them with the intent's outcome. Paper orders compose
// the same pieces into their venue's statement (engine/paper-order.ts).
import { and, eq, isNull, sql, type SQL } from 'drizzle-orm';
import { asyncCommitCte } from '../async-commit.js';
import type { Db } from '../client.js';
import { executePrepared } from '../prepared.js';
import { fills, orderIntents, trades, unsettledStatusList, type Fill, type OrderIntent, type Trade } from '../schema/index.js';
import type { ExchangeTrade, OrderState } from '../../exchange/types.js';
import { type Decimal, str } from '../../money.js';

/** What an order's execution adds up to (engine/ledger/record-execution.ts summarises it). */
export interface BookedExecution {
  quantity: Decimal;
  averagePrice: Decimal;
  feeQuote: Decimal;
  at: Date;
}
type Execution = BookedExecution;

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
  feeInQuote: (t: ExchangeTrade, quote: string) => Decimal,
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

/** A trade CTE that opens or closes nothing (an order that is not final, or filled nothing). */
export function noTradeCte(): SQL {
  return sql`t as (select * from ${trades} where false)`;
}

/**
 * A partial exit: the filled part becomes a closed trade of its own (split_from_trade_id → the
 * original), carrying its share of the entry fee; the original stays open with the rest. Splits once
 * per exit order (exit_intent_id is unique), so re-recording the same answer changes nothing.
 */
export function tradeSplit(tradeId: number, intentId: SQL, execution: Execution, capitalBufferText: string): SQL {
  const filledQty = str(execution.quantity);
  const exitPrice = str(execution.averagePrice);
  const exitFee = str(execution.feeQuote);
  const exitAt = execution.at.toISOString();
  return sql`src as (
          select id, entry_fee, quantity, round(entry_fee * ${filledQty}::numeric / quantity, 18) as part_fee from ${trades}
          where id = ${tradeId}::bigint and status = 'open' and quantity > ${filledQty}::numeric
            and not exists (select 1 from ${trades} where exit_intent_id = ${intentId})
          for update),
        rest as (update ${trades} set quantity = src.quantity - ${filledQty}::numeric, entry_fee = src.entry_fee - src.part_fee
          from src where ${trades.id} = src.id returning ${trades.id}),
        t as (insert into ${trades} (mode, feed, strategy, symbol, status, quantity, entry_price, entry_fee, entry_at, entry_intent_id,
            split_from_trade_id, exit_price, exit_fee, exit_at, exit_intent_id, capital_buffer, realized_pnl)
          select o.mode, o.feed, o.strategy, o.symbol, 'closed', ${filledQty}::numeric, o.entry_price, src.part_fee, o.entry_at, o.entry_intent_id,
            o.id, ${exitPrice}::numeric, ${exitFee}::numeric, ${exitAt}::timestamptz, ${intentId}, ${capitalBufferText}::numeric,
            (${exitPrice}::numeric - o.entry_price) * ${filledQty}::numeric - src.part_fee - ${exitFee}::numeric
          from src join ${trades} o on o.id = src.id
          returning *)`;
}

/**
 * The one statement (one round trip, one atomic commit): the fills, the trade CTE, the intent's
 * outcome. Data-modifying CTEs all run to completion whether or not the result reads them.
 */
export async function bookExecution(db: Db, input: {
  intent: Pick<OrderIntent, 'id' | 'purpose' | 'mode'>; status: OrderIntent['status']; exchangeOrderId: string | null; at: Date; fillsCte: SQL; tradeCte: SQL;
}): Promise<Record<string, unknown>[]> {
  const { intent, status, fillsCte, tradeCte } = input;
  const setTrade = intent.purpose === 'entry' ? sql`, trade_id = coalesce((select id from t), trade_id)` : sql``;
  // Paper records share the paper venue's WAL: they may commit without waiting for the flush.
  const paper = intent.mode === 'paper';
  // The intent changes only while unresolved: a final intent is never reopened or re-applied.
  return executePrepared<Record<string, unknown>>(db, sql`
    with ${paper ? sql`${asyncCommitCte},` : sql``} ${fillsCte} ${tradeCte},
    i as (update ${orderIntents} set status = ${status}, updated_at = ${input.at.toISOString()}::timestamptz,
      exchange_order_id = ${input.exchangeOrderId} ${setTrade}
      where id = ${intent.id}::bigint and status in ${unsettledStatusList} returning id)
    select (select count(*) from i)::int as intent_updated, t.* from ${paper ? sql`s` : sql`(select 1) as one`} left join t on true`);
}

/** The trade an order booked before (a restart re-recording): the entry's, the split-off part, or the closed trade. */
export async function bookedTrade(db: Db, intent: Pick<OrderIntent, 'id' | 'purpose' | 'tradeId'>, partial: boolean): Promise<Trade | null> {
  const where = intent.purpose === 'entry'
    ? and(eq(trades.entryIntentId, intent.id), isNull(trades.splitFromTradeId))
    : partial ? eq(trades.exitIntentId, intent.id) : eq(trades.id, intent.tradeId!);
  return (await db.select().from(trades).where(where))[0] ?? null;
}

/** What the ledger holds for an intent now: its status and error, and the fills booked for it. Null when there is no such intent. */
export async function bookedState(db: Db, intent: Pick<OrderIntent, 'id' | 'mode'>): Promise<{ status: OrderIntent['status']; error: string | null; fills: Fill[] } | null> {
  const [row] = await db.select({ status: orderIntents.status, error: orderIntents.error }).from(orderIntents).where(eq(orderIntents.id, intent.id));
  if (!row) return null;
  return { ...row, fills: await db.select().from(fills).where(and(eq(fills.intentId, intent.id), eq(fills.mode, intent.mode))) };
}
