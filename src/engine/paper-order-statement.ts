// Owns the text and parameters of a paper order's one statement (paper-order.ts runs it): the intent
// written only if bot_state allows it and our unsettled paper intents are still those the gate
// judged on, the venue's order and balances, the fill, the trade opened or closed, the intent filled.
// The statement is composed from the ledger's and the venue's own pieces (ledger-booking.ts,
// exchange-paper.ts, ledger-intents.ts), as drizzle SQL: that is what it means. Building that SQL and
// rendering it was a good part of an order's own work in a replay, for a text that is the same for
// every order of a kind (entry or exit, one fill, two balance changes). So the text of each kind is
// rendered once, from the pieces, and each order then makes only its parameters, in the order the
// pieces give them (statementParams), which the first order of each kind in a process checks
// against the pieces' own rendering before the text is kept.
import { sql, type SQL } from 'drizzle-orm';
import { asyncCommitCte } from '../db/async-commit.js';
import type { Db } from '../db/client.js';
import { preparable, queryOf } from '../db/prepared.js';
import { orderAndBalancesCtes, paperOrderInsert, type BalanceDelta, type NewPaperOrder } from '../db/queries/exchange-paper.js';
import { orderIntents, unsettledStatusList, type OrderIntent } from '../db/schema/index.js';
import type { OrderState } from '../exchange/types.js';
import { str } from '../money.js';
import { intentAllowedCte } from './ledger/intents.js';
import type { IntentGuardSql } from '../db/queries/ledger-intents.js';
import { entryTradeInsert, feeInQuote, fillsInsert, tradeClose, type Execution } from './ledger/record-execution.js';

/** Everything a paper order's statement writes or checks. */
export interface PaperOrderStatementInput {
  /** The intent as it will be written (filled); its id is the statement's to take. */
  intent: OrderIntent;
  /** bot_state's check, and the engine lease's holder id where one is asked (ledger-intents.ts intentAllowedCte). */
  guard: IntentGuardSql;
  /** The unsettled paper intents the gate judged on, as the statement compares them (fingerprint()). */
  unsettled: string;
  /** The venue's answer: the order filled whole, its fills. */
  state: OrderState;
  /** The venue's order row and balance changes (PaperExchange.placeWithin). */
  order: NewPaperOrder;
  deltas: BalanceDelta[];
  execution: Execution;
  quote: string;
  /** An exit's capital_buffer (null for an entry). */
  capitalBuffer: string | null;
}

/** The statement as drizzle SQL, from the pieces: what it means, and what its text is rendered from. */
export function paperOrderSql(p: PaperOrderStatementInput): SQL {
  const { intent, state, execution } = p;
  const id = sql`(select intent_id from ids)`;
  const venueWrote = sql`exists (select 1 from o)`;
  let trade;
  if (intent.purpose === 'entry') {
    trade = entryTradeInsert(intent, id, execution, venueWrote);
  } else {
    if (intent.tradeId === null || p.capitalBuffer === null) throw new Error('a paper exit needs the trade it closes and its capital buffer');
    trade = tradeClose(intent.tradeId, id, execution, p.capitalBuffer, venueWrote);
  }
  const fills = fillsInsert(intent, id, state, p.quote, venueWrote, feeInQuote);
  const at = intent.createdAt.toISOString();
  const tradeId = intent.purpose === 'entry' ? sql`(select id from t)` : sql`${intent.tradeId}::bigint`;
  const ctes = orderAndBalancesCtes(paperOrderInsert(p.order, sql`exists (select 1 from ids)`), p.deltas, p.order.createdAt);
  return sql`
        with ${asyncCommitCte}, ${intentAllowedCte(intent, p.guard)},
        u as (select id, symbol, status, created_at from ${orderIntents} where mode = 'paper' and status in ${unsettledStatusList}),
        fresh as (select coalesce(string_agg(id::text || ':' || status, ',' order by id), '') = ${p.unsettled}::text as ok from u),
        ids as materialized (select nextval('order_intents_id_seq') as intent_id from allowed, fresh where fresh.ok),
        ${ctes},
        f as (${fills}),
        t as (${trade}),
        i as (insert into ${orderIntents} (id, client_order_id, mode, feed, strategy, symbol, side, purpose, type, quantity, limit_price, status,
            exchange_order_id, trade_id, created_at, updated_at)
          select ids.intent_id, ${intent.clientOrderId}, ${intent.mode}, ${intent.feed}, ${intent.strategy}, ${intent.symbol}, ${intent.side},
            ${intent.purpose}, 'market', ${intent.quantity}::numeric, null, 'filled', ${state.exchangeOrderId}, ${tradeId},
            ${at}::timestamptz, ${at}::timestamptz
          from ids where ${venueWrote} returning id)
        select (select intent_id from ids)::float8 as intent_id, (select 1 from i)::int as intent_written,
          (select json_agg(json_build_object('asset', asset, 'total', total::text)) from b)::text as balances, s.async_commit,
          (select ok from fresh) as unsettled_ok,
          case when (select ok from fresh) then null else (select json_agg(json_build_object('id', id, 'symbol', symbol, 'status', status, 'created_at', created_at)) from u)::text end as unsettled,
          t.*
        from s left join t on true`;
}

/**
 * The statement's parameters, in the order paperOrderSql's pieces render them: the bot_state check
 * (with the lease's holder id where one is asked),
 * the unsettled intents, the venue's order, its balances, each fill, the trade, the intent.
 */
export function statementParams(p: PaperOrderStatementInput): unknown[] {
  const { intent, state, order: o, execution } = p;
  const params: unknown[] = [
    intent.purpose, intent.purpose, p.guard.armed, ...(p.guard.holderId === null ? [] : [p.guard.holderId]),
    p.unsettled,
    o.exchangeOrderId, o.clientOrderId, o.symbol, o.side, o.type, o.status, o.quantity, o.limitPrice, o.exchangeTradeId, o.price, o.fee,
    o.feeCurrency, o.liquidity, o.createdAt.toISOString(), o.filledAt?.toISOString() ?? null,
    o.createdAt.toISOString(),
  ];
  for (const d of p.deltas) params.push(d.asset, d.delta);
  for (const t of state.trades) {
    params.push(intent.clientOrderId, t.id, t.orderId || state.exchangeOrderId, intent.mode, intent.feed, t.symbol, t.side, t.quantity, t.price,
      str(feeInQuote(t, p.quote)), p.quote, t.chargedFee ?? t.fee, t.chargedFeeCurrency ?? t.feeCurrency, t.timestamp.toISOString());
  }
  const quantity = str(execution.quantity);
  const price = str(execution.averagePrice);
  const fee = str(execution.feeQuote);
  const at = execution.at.toISOString();
  if (intent.purpose === 'entry') params.push(intent.mode, intent.feed, intent.strategy, intent.symbol, quantity, price, fee, at);
  else params.push(price, fee, at, p.capitalBuffer, price, fee, intent.tradeId);
  const createdAt = intent.createdAt.toISOString();
  params.push(intent.clientOrderId, intent.mode, intent.feed, intent.strategy, intent.symbol, intent.side, intent.purpose, intent.quantity,
    state.exchangeOrderId);
  if (intent.purpose !== 'entry') params.push(intent.tradeId);
  params.push(createdAt, createdAt);
  return params;
}

/**
 * What makes two orders' texts the same: entry or exit, how many fills and balance changes (the
 * pieces render a row of parameters for each), whether the engine lease is checked, whether the venue's order has no balance change at
 * all (rendered as a null row instead).
 */
function kindOf(p: PaperOrderStatementInput): string {
  return `${p.intent.purpose === 'entry' ? 'entry' : 'exit'}:${p.state.trades.length}:${p.deltas.length}:${p.guard.holderId === null ? 'unfenced' : 'lease'}`;
}

/** Per database handle (a pool), per kind: the text, once its first order's parameters matched the pieces'; false when they did not. */
const texts = new WeakMap<object, Map<string, string | false>>();

/**
 * The statement for one order: its kept text and parameters, or — the first order of its kind on
 * this database in this process, or where the text cannot be run prepared — the pieces' SQL.
 */
export function paperOrderStatement(db: Db, p: PaperOrderStatementInput): { text: string; params: unknown[] } | SQL {
  let kinds = texts.get(db);
  if (!kinds) texts.set(db, (kinds = new Map()));
  const kind = kindOf(p);
  const text = kinds.get(kind);
  if (text) return { text, params: statementParams(p) };
  const query = paperOrderSql(p);
  if (text === undefined && preparable(db)) {
    const rendered = queryOf((db as unknown as { dialect: Parameters<typeof queryOf>[0] }).dialect, query);
    kinds.set(kind, sameParams(rendered.params, statementParams(p)) ? rendered.sql : false);
  }
  return query;
}

function sameParams(a: unknown[], b: unknown[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
