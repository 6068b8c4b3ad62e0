// Owns the paper venue's persistence (exchange/paper/paper-exchange.ts runs it): balances
// (paper_balances) and orders (paper_orders).
// (Dates go into raw SQL as ISO strings: postgres.js will not serialise a Date for an untyped parameter.)
// The venue is a simulation: its statements commit asynchronously (see db/async-commit.ts).
// A fill is one statement — the order row and both balance changes commit together or not at all,
// and a second attempt with the same client order id changes nothing.
import { and, desc, eq, gte, lt, sql, type SQL } from 'drizzle-orm';
import { asyncCommitCte } from '../async-commit.js';
import { type Db } from '../client.js';
import { executePrepared } from '../prepared.js';
import { paperBalances, paperOrders, type PaperOrder } from '../schema/index.js';

export interface BalanceRow {
  asset: string;
  total: string;
}

export interface NewPaperOrder {
  exchangeOrderId: string;
  clientOrderId: string;
  symbol: string;
  side: 'buy' | 'sell';
  type: 'market' | 'limit';
  status: 'open' | 'closed';
  quantity: string;
  limitPrice: string | null;
  exchangeTradeId: string | null;
  price: string | null;
  fee: string | null;
  feeCurrency: string | null;
  liquidity: 'taker' | 'maker' | null;
  createdAt: Date;
  filledAt: Date | null;
}

export interface BalanceDelta {
  asset: string;
  delta: string;
}

/** Seeds the starting balance the first time the paper account is used. */
export async function seedPaperAccount(db: Db, p: { asset: string; amount: string; at: Date }): Promise<void> {
  await db.execute(sql`
    insert into ${paperBalances} (asset, total, starting, updated_at)
    select ${p.asset}::text, ${p.amount}::numeric, ${p.amount}::numeric, ${p.at.toISOString()}::timestamptz
    where not exists (select 1 from ${paperBalances})
    on conflict (asset) do nothing`);
}

/** The paper account's row for `asset` with the amount it was funded with (null: funded before that was recorded); undefined: not funded. */
export async function paperFundingRow(db: Db, asset: string): Promise<{ starting: string | null } | undefined> {
  const rows = await db.select({ starting: paperBalances.starting }).from(paperBalances).where(eq(paperBalances.asset, asset)).limit(1);
  return rows[0];
}

export async function readPaperBalances(db: Db): Promise<BalanceRow[]> {
  return db.select({ asset: paperBalances.asset, total: paperBalances.total }).from(paperBalances).orderBy(paperBalances.asset);
}

/**
 * Runs `orderStatement` (an insert or update of one paper order, `returning id`) and, only when it
 * touched a row, applies the balance deltas — in one statement, so the order and the balances
 * commit together or not at all. Returns the new totals of the changed assets, or null when the
 * order statement changed nothing.
 */
async function orderWithBalances(db: Db, orderStatement: SQL, deltas: BalanceDelta[], at: Date): Promise<BalanceRow[] | null> {
  const rows = await executePrepared<{ kind: string; asset: string | null; total: string | null }>(db, sql`
    with ${asyncCommitCte}, ${orderAndBalancesCtes(orderStatement, deltas, at)}
    select 'order' as kind, null as asset, null::text as total from o
    union all
    select 'balance', asset, total::text from b
    union all
    select 'async_commit', null, async_commit from s`);
  if (!rows.some((r) => r.kind === 'order')) return null;
  return rows.filter((r) => r.kind === 'balance').map((r) => ({ asset: r.asset!, total: r.total! }));
}

/**
 * The CTEs `o` (an order statement, `returning id`) and `b` (the balance deltas, applied only when
 * `o` touched a row, `returning asset, total`), for a statement of which they are a part.
 */
export function orderAndBalancesCtes(orderStatement: SQL, deltas: BalanceDelta[], at: Date): SQL {
  const values = deltas.length > 0
    ? sql.join(deltas.map((d) => sql`(${d.asset}::text, ${d.delta}::numeric)`), sql`, `)
    : sql`(null::text, null::numeric)`;
  return sql`o as (${orderStatement}), b as (
      insert into ${paperBalances} (asset, total, updated_at)
      select v.asset, v.delta, ${at.toISOString()}::timestamptz from (values ${values}) as v(asset, delta)
      where v.asset is not null and exists (select 1 from o)
      on conflict (asset) do update set total = ${paperBalances.total} + excluded.total, updated_at = excluded.updated_at
      returning asset, total
    )`;
}

/** The insert of a new paper order, `returning id` (nothing when the client order id is known, or unless `guard` holds). */
export function paperOrderInsert(o: NewPaperOrder, guard: SQL = sql`true`): SQL {
  return sql`
      insert into ${paperOrders} (exchange_order_id, client_order_id, symbol, side, type, status, quantity, limit_price,
        exchange_trade_id, price, fee, fee_currency, liquidity, created_at, filled_at)
      select ${o.exchangeOrderId}, ${o.clientOrderId}, ${o.symbol}, ${o.side}, ${o.type}, ${o.status}, ${o.quantity}::numeric,
        ${o.limitPrice}::numeric, ${o.exchangeTradeId}, ${o.price}::numeric, ${o.fee}::numeric, ${o.feeCurrency}, ${o.liquidity},
        ${o.createdAt.toISOString()}::timestamptz, ${o.filledAt?.toISOString() ?? null}::timestamptz
      where ${guard}
      on conflict (client_order_id) do nothing
      returning id`;
}

/**
 * Inserts the order and applies the balance deltas in one statement. Returns the new totals of the
 * changed assets, or null when an order with this client order id already exists (nothing changed).
 */
export async function insertOrderWithBalances(db: Db, p: { order: NewPaperOrder; deltas: BalanceDelta[]; at: Date }): Promise<BalanceRow[] | null> {
  return orderWithBalances(db, paperOrderInsert(p.order), p.deltas, p.at);
}

/** Fills a resting order (if it is still open) and applies its balance deltas, in one statement. */
export async function fillRestingOrder(db: Db, p: {
  id: number; exchangeTradeId: string; price: string; fee: string; feeCurrency: string; filledAt: Date; deltas: BalanceDelta[];
}): Promise<BalanceRow[] | null> {
  return orderWithBalances(db, sql`
      update ${paperOrders} set status = 'closed', exchange_trade_id = ${p.exchangeTradeId}, price = ${p.price}::numeric,
        fee = ${p.fee}::numeric, fee_currency = ${p.feeCurrency}, liquidity = 'maker', filled_at = ${p.filledAt.toISOString()}::timestamptz
      where id = ${p.id} and status = 'open'
      returning id`, p.deltas, p.filledAt);
}

export async function findPaperOrderByClientId(db: Db, clientOrderId: string): Promise<PaperOrder | undefined> {
  const rows = await db.select().from(paperOrders).where(eq(paperOrders.clientOrderId, clientOrderId));
  return rows[0];
}

export async function openPaperOrders(db: Db, symbol?: string): Promise<PaperOrder[]> {
  const where = symbol ? and(eq(paperOrders.status, 'open'), eq(paperOrders.symbol, symbol)) : eq(paperOrders.status, 'open');
  return db.select().from(paperOrders).where(where).orderBy(paperOrders.id);
}

export async function cancelPaperOrder(db: Db, p: { exchangeOrderId: string }): Promise<'canceled' | 'not_open' | 'unknown'> {
  const rows = await db.update(paperOrders).set({ status: 'canceled' })
    .where(and(eq(paperOrders.exchangeOrderId, p.exchangeOrderId), eq(paperOrders.status, 'open'))).returning({ id: paperOrders.id });
  if (rows.length > 0) return 'canceled';
  const known = await db.select({ id: paperOrders.id }).from(paperOrders).where(eq(paperOrders.exchangeOrderId, p.exchangeOrderId));
  return known.length > 0 ? 'not_open' : 'unknown';
}

export async function cancelAllPaperOrders(db: Db): Promise<number> {
  const rows = await db.update(paperOrders).set({ status: 'canceled' }).where(eq(paperOrders.status, 'open')).returning({ id: paperOrders.id });
  return rows.length;
}

/** Filled orders, newest first, one page; the cursor is the id to continue below. */
export async function filledPaperOrders(db: Db, p: { since?: Date; beforeId?: number; limit: number }): Promise<PaperOrder[]> {
  const conditions = [eq(paperOrders.status, 'closed')];
  if (p.since) conditions.push(gte(paperOrders.filledAt, p.since));
  if (p.beforeId !== undefined) conditions.push(lt(paperOrders.id, p.beforeId));
  return db.select().from(paperOrders).where(and(...conditions)).orderBy(desc(paperOrders.id)).limit(p.limit);
}
