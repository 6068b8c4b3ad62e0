// Owns the paper exchange's own order book: what the simulated venue knows about orders, the way
// Kraken knows its orders. The engine's restart resolves pending intents against this table
// (fetchOrderByClientId), so a crash between intent and fill neither loses nor repeats an order.
import { sql } from 'drizzle-orm';
import { bigserial, index, numeric, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';

const money = (name: string) => numeric(name, { precision: 38, scale: 18 });
const at = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const paperOrders = pgTable(
  'paper_orders',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    /** Deterministic: derived from the client order id, so a retried send maps to the same order. */
    exchangeOrderId: text('exchange_order_id').notNull(),
    clientOrderId: text('client_order_id').notNull(),
    symbol: text('symbol').notNull(),
    side: text('side', { enum: ['buy', 'sell'] }).notNull(),
    type: text('type', { enum: ['market', 'limit'] }).notNull(),
    status: text('status', { enum: ['open', 'closed', 'canceled'] }).notNull(),
    quantity: money('quantity').notNull(),
    limitPrice: money('limit_price'),
    /** Set when filled (paper fills whole orders: one trade per order). */
    exchangeTradeId: text('exchange_trade_id'),
    price: money('price'),
    fee: money('fee'),
    feeCurrency: text('fee_currency'),
    liquidity: text('liquidity', { enum: ['taker', 'maker'] }),
    createdAt: at('created_at').notNull(),
    filledAt: at('filled_at'),
  },
  (t) => [
    uniqueIndex('paper_orders_client_order_id').on(t.clientOrderId),
    // Only the resting orders (what the venue matches each candle): a filled or canceled order,
    // nearly every row, is never looked up by status, so writing it leaves the index alone.
    index('paper_orders_status').on(t.status).where(sql`${t.status} = 'open'`),
    index('paper_orders_filled_at').on(t.filledAt),
  ],
);

export type PaperOrder = typeof paperOrders.$inferSelect;
