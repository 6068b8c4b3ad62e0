// Owns the trading ledger's tables: bot state, order intents, fills, round-trip trades,
// equity snapshots, paper balances and risk events. Money is numeric (exact), read as strings.
import { sql } from 'drizzle-orm';
import {
  bigserial, boolean, check, index, integer, jsonb, numeric, pgTable, text, timestamp, uniqueIndex,
} from 'drizzle-orm/pg-core';
import { UNSETTLED_STATUSES } from '../../domain/order-status.js';

const money = (name: string) => numeric(name, { precision: 38, scale: 18 });
const at = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/** Singleton row (id = 1): the engine's persisted mode and halt state. */
export const botState = pgTable(
  'bot_state',
  {
    id: integer('id').primaryKey().default(1),
    mode: text('mode', { enum: ['paper', 'live'] }).notNull().default('paper'),
    halted: boolean('halted').notNull().default(false),
    haltedReason: text('halted_reason'),
    haltedAt: at('halted_at'),
    haltedBy: text('halted_by'),
    entriesPaused: boolean('entries_paused').notNull().default(false),
    entriesPausedReason: text('entries_paused_reason'),
    engineHeartbeatAt: at('engine_heartbeat_at'),
    /** Who paused entries (an operator, or system:risk-guard) — the trading state is then 'reducing'. */
    entriesPausedBy: text('entries_paused_by'),
    entriesPausedAt: at('entries_paused_at'),
    /** Live trading's last reconciled point: Kraken's fills and open orders up to here are explained. */
    reconciledThrough: at('reconciled_through'),
    /** Start reconciliation found orders or fills it cannot explain: no strategy runs until resolved. */
    reconciliationBlocked: boolean('reconciliation_blocked').notNull().default(false),
    reconciliationDetails: jsonb('reconciliation_details').$type<Record<string, unknown>>(),
    /**
     * When a process with the Kraken key or armed was seen seeking the engine lease, always before it
     * takes it (never cleared: a stop deletes the lease row, not this), and on which host. A keyless process reads it as "this bot may
     * have orders on Kraken" (db/queries/kraken-use-ever.ts). Not a change of the trading state: no version bump.
     */
    krakenKeySeenAt: at('kraken_key_seen_at'),
    krakenKeySeenHost: text('kraken_key_seen_host'),
    version: integer('version').notNull().default(0),
    updatedAt: at('updated_at').notNull().defaultNow(),
  },
  (t) => [check('bot_state_singleton', sql`${t.id} = 1`)],
);

export const orderIntents = pgTable(
  'order_intents',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    clientOrderId: text('client_order_id').notNull(),
    mode: text('mode', { enum: ['paper', 'live'] }).notNull(),
    feed: text('feed', { enum: ['kraken', 'replay'] }).notNull(),
    strategy: text('strategy').notNull(),
    symbol: text('symbol').notNull(),
    side: text('side', { enum: ['buy', 'sell'] }).notNull(),
    purpose: text('purpose', { enum: ['entry', 'exit', 'flatten'] }).notNull(),
    type: text('type', { enum: ['market', 'limit'] }).notNull(),
    quantity: money('quantity').notNull(),
    limitPrice: money('limit_price'),
    status: text('status', {
      enum: [...UNSETTLED_STATUSES, 'filled', 'canceled', 'rejected', 'failed', 'refused'],
    }).notNull().default('pending'),
    exchangeOrderId: text('exchange_order_id'),
    tradeId: integer('trade_id'),
    error: text('error'),
    /** When the intent was written, on the clock of the engine that wrote it (the market clock in a replay). */
    createdAt: at('created_at').notNull(),
    /** When its status last changed, on the engine's clock (the market clock in a replay): what reports and replays read. */
    updatedAt: at('updated_at').notNull(),
    /**
     * When it was written or (live only) last updated, on the database's clock, whichever process wrote
     * it — set by the database: the default on insert, then a trigger (migration 0032) on every update
     * of a live intent, a booking that rewrites an open intent unchanged included. What recovery judges
     * a live order's not-found grace by; a paper intent keeps the time it was written.
     */
    stateChangedAt: at('state_changed_at').notNull().defaultNow(),
    /**
     * When it was written, on the database's clock (the default on insert; nothing updates it): how
     * long it has been unresolved, for recovery's stuck-order warning, whichever process wrote it.
     */
    writtenAt: at('written_at').notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('order_intents_client_order_id').on(t.clientOrderId),
    // Only the unsettled intents (the few the gate and the fill follower look for): a settled
    // intent, nearly every row, is never looked up by status, so writing it leaves the index alone.
    index('order_intents_status').on(t.status).where(sql`${t.status} in ${sql.raw(`(${UNSETTLED_STATUSES.map((s) => `'${s}'`).join(', ')})`)}`),
  ],
);

/**
 * The unsettled statuses as an SQL list, `('pending', 'sent', 'open')` (src/domain/order-status.ts):
 * constant text, so a statement written `status in ${unsettledStatusList}` stays preparable.
 */
export const unsettledStatusList = sql.raw(`(${UNSETTLED_STATUSES.map((s) => `'${s}'`).join(', ')})`);

/**
 * `mode = 'live'` on fills as constant text (not a parameter): a prepared statement's generic plan
 * can then use fills_filled_at, which holds live fills only.
 */
export const liveFillsOnly = sql`"fills"."mode" = 'live'`;

export const fills = pgTable(
  'fills',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    intentId: integer('intent_id').notNull(),
    clientOrderId: text('client_order_id').notNull(),
    exchangeTradeId: text('exchange_trade_id').notNull(),
    exchangeOrderId: text('exchange_order_id'),
    mode: text('mode', { enum: ['paper', 'live'] }).notNull(),
    feed: text('feed', { enum: ['kraken', 'replay'] }).notNull(),
    symbol: text('symbol').notNull(),
    side: text('side', { enum: ['buy', 'sell'] }).notNull(),
    quantity: money('quantity').notNull(),
    price: money('price').notNull(),
    fee: money('fee').notNull(),
    feeCurrency: text('fee_currency').notNull(),
    /** The fee as the exchange charged it, in the currency it charged (fee above is in the quote). */
    chargedFee: money('charged_fee'),
    chargedFeeCurrency: text('charged_fee_currency'),
    filledAt: at('filled_at').notNull(),
  },
  (t) => [
    uniqueIndex('fills_exchange_trade_id').on(t.mode, t.exchangeTradeId),
    // Only live fills: what reconciliation and the ledger's cash check look up by time (each query
    // says mode = 'live' as a constant, so a prepared plan can use it). A paper fill, most rows in a
    // replay, leaves it alone.
    index('fills_filled_at_live').on(t.filledAt).where(sql`${t.mode} = 'live'`),
  ],
);

/**
 * A round trip: opened by an entry fill, closed by an exit fill.
 * capital_buffer (set on close, required when closed): the quote-currency cash left uncommitted
 * after the close minus the configured reserve (CAPITAL_RESERVE_PCT of equity at close).
 * Positive means the reserve is intact with room to spare; negative means the reserve was eaten into.
 */
export const trades = pgTable(
  'trades',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    mode: text('mode', { enum: ['paper', 'live'] }).notNull(),
    feed: text('feed', { enum: ['kraken', 'replay'] }).notNull(),
    strategy: text('strategy').notNull(),
    symbol: text('symbol').notNull(),
    status: text('status', { enum: ['open', 'closed'] }).notNull(),
    quantity: money('quantity').notNull(),
    entryPrice: money('entry_price').notNull(),
    entryFee: money('entry_fee').notNull(),
    entryAt: at('entry_at').notNull(),
    exitPrice: money('exit_price'),
    exitFee: money('exit_fee'),
    exitAt: at('exit_at'),
    realizedPnl: money('realized_pnl'),
    capitalBuffer: money('capital_buffer'),
    entryIntentId: integer('entry_intent_id').notNull(),
    exitIntentId: integer('exit_intent_id'),
    /**
     * Set on the closed part of a trade whose exit filled only partly: the row it was split from
     * stays open with the remaining quantity (and the same entry intent).
     */
    splitFromTradeId: integer('split_from_trade_id'),
  },
  (t) => [
    check('trades_closed_complete', sql`${t.status} <> 'closed' or (${t.exitPrice} is not null and ${t.exitAt} is not null and ${t.realizedPnl} is not null and ${t.capitalBuffer} is not null)`),
    // One trade per entry intent: recording the same entry twice (a restart resolving it) is a no-op.
    // Parts split off by a partial exit share the entry intent and are left out.
    uniqueIndex('trades_entry_intent_id').on(t.entryIntentId).where(sql`split_from_trade_id is null`),
    // One closed part per exit order: recording a partial exit twice splits once. An open trade has
    // neither an exit order nor an exit time: its entry leaves these two indexes alone (every query
    // on them names a value or a range, which no null matches).
    uniqueIndex('trades_exit_intent_id_exited').on(t.exitIntentId).where(sql`${t.exitIntentId} is not null`),
    index('trades_status').on(t.status, t.mode),
    index('trades_exit_at_exited').on(t.exitAt).where(sql`${t.exitAt} is not null`),
  ],
);

export const equitySnapshots = pgTable(
  'equity_snapshots',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    mode: text('mode', { enum: ['paper', 'live'] }).notNull(),
    feed: text('feed', { enum: ['kraken', 'replay'] }).notNull(),
    at: at('at').notNull(),
    equity: money('equity').notNull(),
    cash: money('cash').notNull(),
    peakEquity: money('peak_equity').notNull(),
    drawdownPct: money('drawdown_pct').notNull(),
  },
  // A book's snapshots have distinct times: deduplication (on by default) finds nothing to merge and
  // was a pass over a full leaf page at every split, for a row per candle in a replay.
  (t) => [index('equity_snapshots_at').on(t.mode, t.at).with({ deduplicate_items: false })],
);

/**
 * Paper account balances, persisted so a restart keeps the simulated account. `starting` is the
 * amount the account was first funded with (PAPER_STARTING_BALANCE of the process that funded it),
 * set once on that asset's row and never changed: paper ROI is measured against it in every process.
 */
export const paperBalances = pgTable('paper_balances', {
  asset: text('asset').primaryKey(),
  total: money('total').notNull(),
  starting: money('starting'),
  updatedAt: at('updated_at').notNull(),
});

export const riskEvents = pgTable('risk_events', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  at: at('at').notNull(),
  kind: text('kind', { enum: ['max_drawdown', 'daily_loss', 'hard_drawdown', 'cleared'] }).notNull(),
  value: money('value').notNull(),
  threshold: money('threshold').notNull(),
  action: text('action').notNull(),
  details: jsonb('details').$type<Record<string, unknown>>().notNull().default({}),
});

export type BotState = typeof botState.$inferSelect;
/**
 * An order intent as the engine holds it. state_changed_at and written_at are left out: only the
 * database writes them and only SQL judges them (recovery's grace and stuck warning), so no process's
 * copy of them is ever compared with a clock.
 */
export type OrderIntent = Omit<typeof orderIntents.$inferSelect, 'stateChangedAt' | 'writtenAt'>;
export type Fill = typeof fills.$inferSelect;
export type Trade = typeof trades.$inferSelect;
export type EquitySnapshot = typeof equitySnapshots.$inferSelect;
