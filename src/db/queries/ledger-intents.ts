// Owns the statements on order_intents that the engine's order path, its fill follower, flatten and
// self-heal run: writing an intent only where bot_state allows it (the FOR SHARE fence against a kill,
// described at engine/ledger/intents.ts writeIntent) and, for an engine, where it still holds the
// engine lease (engine/ledger/intent-lease.ts), closing or advancing one, listing those still
// unresolved, the live intents' change mark, and the gate's reads (recent and unsettled intents).
import { and, eq, gte, inArray, isNull, ne, or, sql, type SQL } from 'drizzle-orm';
import { asyncCommitCte } from '../async-commit.js';
import type { Db } from '../client.js';
import { executePrepared } from '../prepared.js';
import { isUnsettled, UNSETTLED_STATUSES } from '../../domain/order-status.js';
import { botState, engineLease, orderIntents, unsettledStatusList, type OrderIntent } from '../schema/index.js';

type Mode = OrderIntent['mode'];

/**
 * What the `allowed` check is given: whether this process is armed, and the engine lease holder id the
 * intent is written under (engine/ledger/intent-lease.ts), or null when it asks no lease.
 */
export interface IntentGuardSql {
  armed: boolean;
  holderId: string | null;
}

/**
 * The CTE `allowed`: one row when bot_state allows this intent now, with bot_state's row locked FOR
 * SHARE (the fence against a kill), and — given a holder id — only while engine_lease's row names that
 * holder, that row locked FOR SHARE too (the fence against a takeover: its upsert waits for this
 * statement's commit, and this statement, waiting on an uncommitted takeover, re-reads the row and
 * finds another holder). effectiveMode() in SQL: live only when armed, requested live and not halted
 * (halted is excluded anyway). Parameters: purpose, purpose, armed, then the holder id when given.
 */
export function intentAllowedCte(intent: Pick<OrderIntent, 'mode' | 'purpose'>, guard: IntentGuardSql): SQL {
  const modeHolds = intent.mode === 'paper' ? sql`not (${guard.armed}::boolean and b.mode = 'live')` : sql`(${guard.armed}::boolean and b.mode = 'live')`;
  const allowedByState = sql`(${intent.purpose} = 'flatten' or (not b.halted and (${intent.purpose} <> 'entry' or not b.entries_paused) and ${modeHolds}))`;
  if (guard.holderId === null) return sql`allowed as (select 1 from ${botState} b where b.id = 1 and ${allowedByState} for share of b)`;
  return sql`allowed as (select 1 from ${botState} b, ${engineLease} l where b.id = 1 and ${allowedByState}
      and l.id = 1 and l.holder_id = ${guard.holderId} for share of b, l)`;
}

/**
 * Inserts `row` in one statement with the `allowed` check, returning its id, or null when bot_state
 * (or the engine lease) forbade it. A paper intent commits asynchronously (db/async-commit.ts); a live
 * one waits for the WAL.
 */
export async function insertIntentWhereAllowed(db: Db, row: Omit<OrderIntent, 'id'>, guard: IntentGuardSql): Promise<number | null> {
  const paper = row.mode === 'paper';
  const at = row.createdAt.toISOString();
  const rows = await executePrepared<{ id: number | string }>(db, sql`
    with ${paper ? sql`${asyncCommitCte},` : sql``} ${intentAllowedCte(row, guard)}
    insert into ${orderIntents} (client_order_id, mode, feed, strategy, symbol, side, purpose, type, quantity, limit_price, status, trade_id, error, created_at, updated_at)
    select ${row.clientOrderId}, ${row.mode}, ${row.feed}, ${row.strategy}, ${row.symbol}, ${row.side}, ${row.purpose}, ${row.type},
      ${row.quantity}::numeric, ${row.limitPrice}::numeric, ${row.status}, ${row.tradeId}::bigint, ${row.error}::text, ${at}::timestamptz,
      ${at}::timestamptz
    from allowed ${paper ? sql`cross join s` : sql``} returning id`);
  return rows[0] ? Number(rows[0].id) : null;
}

/**
 * The statuses an intent may be moved to `status` from: forward only. Pending → sent → open → an
 * outcome; sent never from open (a part already filled), and nothing from an outcome already booked
 * (but see movableWhere: the venue's acceptance reopens a close recovery guessed).
 */
function movableFrom(status: OrderIntent['status']): readonly OrderIntent['status'][] {
  if (status === 'pending') return ['pending'];
  if (status === 'sent') return ['pending', 'sent'];
  return UNSETTLED_STATUSES;
}

/** The error recovery closes an intent with when the venue did not know it (recovery.ts): a guess, not the venue's answer. */
export const NEVER_PLACED_ERROR = 'not on the exchange when resolved: never placed';

/** What an intent closed as never placed, then accepted by the venue (reopened as sent), says instead: it was placed. */
export const REVIVED_NOTE = 'closed as never placed, then accepted by the exchange: reopened';

/**
 * Where `status` may be written: movableFrom, and for `sent` also an intent recovery closed as never
 * placed. That close is a guess, which may be made while the send is still in flight (after a send
 * slower than its grace: the order lock keeps recovery out only while the sending session holds it):
 * the venue's acceptance is the answer, and the intent must be followed again, not left failed while
 * its order lives on the venue.
 */
function movableWhere(status: OrderIntent['status']): SQL | undefined {
  const forward = inArray(orderIntents.status, [...movableFrom(status)]);
  if (status !== 'sent') return forward;
  return or(forward, and(eq(orderIntents.status, 'failed'), eq(orderIntents.error, NEVER_PLACED_ERROR)));
}

/**
 * Moves intent `id` to `status`, forward only (movableFrom), judged in the statement itself: another
 * process (the fill follower, a streamed execution, recovery) may have booked its outcome since the
 * caller last read it, and that outcome is never written back to an earlier state. False when it was
 * not moved — it was already further on; `exchangeOrderId` is then still kept where the intent had
 * none, so the venue's order id is never lost. Reopening a closed intent on purpose is reopenIntent.
 */
export async function markIntent(db: Db, p: { id: number; status: OrderIntent['status']; error?: string; exchangeOrderId?: string; at: Date }): Promise<boolean> {
  const rows = await db.update(orderIntents).set({
    status: p.status, updatedAt: p.at,
    // Reopened by the venue's acceptance without an error of its own: the row no longer says "never placed".
    ...(p.error !== undefined ? { error: p.error.slice(0, 1000) }
      : p.status === 'sent' ? { error: sql`case when ${orderIntents.status} = 'failed' and ${orderIntents.error} = ${NEVER_PLACED_ERROR} then ${REVIVED_NOTE} else ${orderIntents.error} end` } : {}),
    ...(p.exchangeOrderId !== undefined ? { exchangeOrderId: p.exchangeOrderId } : {}),
  }).where(and(eq(orderIntents.id, p.id), movableWhere(p.status))).returning({ id: orderIntents.id });
  if (rows.length > 0) return true;
  if (p.exchangeOrderId !== undefined) {
    await db.update(orderIntents).set({ exchangeOrderId: p.exchangeOrderId })
      .where(and(eq(orderIntents.id, p.id), isNull(orderIntents.exchangeOrderId)));
  }
  return false;
}

/** Opens intent `id` again whatever its status (a person adopting an order Kraken lists open). */
export async function reopenIntent(db: Db, p: { id: number; error: string; at: Date }): Promise<void> {
  await db.update(orderIntents).set({ status: 'open', updatedAt: p.at, error: p.error.slice(0, 1000) }).where(eq(orderIntents.id, p.id));
}

/** What closing an intent as never placed did: closed it, left it inside its grace, or found it resolved meanwhile. */
export type NeverPlacedClose = 'closed' | 'in_grace' | 'resolved';

/**
 * Closes intent `id` as failed with `error`, but only while it is still unresolved (pending, sent,
 * open) and, when `graceMs` > 0, once that long has passed on the database's clock since it was written
 * or last changed (state_changed_at, which the database sets): both judged in the statement itself, so
 * an intent another process booked between the caller's read and this update is never overwritten, and
 * neither this process's clock nor that of the process that wrote the intent counts. `at` (the
 * engine's clock) goes to updated_at as markIntent writes it. When nothing was closed, the intent is
 * read again to tell a grace still running from an outcome booked meanwhile.
 */
export async function failIntentAfterGrace(db: Db, p: { id: number; error: string; at: Date; graceMs: number }): Promise<NeverPlacedClose> {
  const due = p.graceMs > 0 ? sql`${orderIntents.stateChangedAt} <= now() - ${Math.round(p.graceMs)} * interval '1 millisecond'` : undefined;
  const rows = await db.update(orderIntents).set({ status: 'failed', updatedAt: p.at, error: p.error.slice(0, 1000) })
    .where(and(eq(orderIntents.id, p.id), inArray(orderIntents.status, [...UNSETTLED_STATUSES]), due))
    .returning({ id: orderIntents.id });
  if (rows.length > 0) return 'closed';
  const [row] = await db.select({ status: orderIntents.status }).from(orderIntents).where(eq(orderIntents.id, p.id));
  return row && isUnsettled(row.status) ? 'in_grace' : 'resolved';
}

/**
 * How long intent `id` has been unresolved, in milliseconds on the database's clock: since it was
 * written (written_at, which the database sets), whichever process wrote it and whatever this
 * process's clock says. Null when there is no such intent.
 */
export async function intentUnresolvedMs(db: Db, id: number): Promise<number | null> {
  const [row] = await db.select({ ms: sql<string | number>`floor(extract(epoch from (now() - ${orderIntents.writtenAt})) * 1000)` })
    .from(orderIntents).where(eq(orderIntents.id, id));
  return row ? Number(row.ms) : null;
}

/**
 * A mark that changes whenever a live order intent is written or changes status: compared before and
 * after a reconciliation, it tells whether an order went out or was booked while Kraken was read.
 */
export async function liveIntentsMark(db: Db): Promise<string> {
  const [row] = await db.select({ n: sql<string>`count(*)`, id: sql<string | null>`max(${orderIntents.id})`, at: sql<string | null>`max(${orderIntents.updatedAt})::text` })
    .from(orderIntents).where(eq(orderIntents.mode, 'live'));
  return `${row?.n ?? 0}:${row?.id ?? ''}:${row?.at ?? ''}`;
}

/** Intents whose outcome the ledger does not know yet: pending (maybe sent), sent, or resting open. */
export async function unresolvedIntents(db: Db, mode?: Mode): Promise<OrderIntent[]> {
  const open = inArray(orderIntents.status, [...UNSETTLED_STATUSES]);
  return db.select().from(orderIntents).where(mode ? and(open, eq(orderIntents.mode, mode)) : open).orderBy(orderIntents.id);
}

/** The live intent still unresolved that a streamed order is: by exchange order id, else by client order id. */
export async function unresolvedLiveIntentFor(db: Db, order: { exchangeOrderId: string; clientOrderId?: string | null | undefined }): Promise<OrderIntent | undefined> {
  const byId = eq(orderIntents.exchangeOrderId, order.exchangeOrderId);
  const match = order.clientOrderId ? or(byId, eq(orderIntents.clientOrderId, order.clientOrderId)) : byId;
  const [intent] = await db.select().from(orderIntents)
    .where(and(eq(orderIntents.mode, 'live'), inArray(orderIntents.status, [...UNSETTLED_STATUSES]), match)).limit(1);
  return intent;
}

/** The gate's seed: `mode`'s intents written since `since` that were not refused, all but `except`. */
export async function recentIntents(db: Db, p: { mode: Mode; since: Date; except?: number | undefined }): Promise<OrderIntent[]> {
  return db.select().from(orderIntents)
    .where(and(eq(orderIntents.mode, p.mode), gte(orderIntents.createdAt, p.since), ne(orderIntents.status, 'refused'), ...(p.except === undefined ? [] : [ne(orderIntents.id, p.except)])));
}

/**
 * The gate's count: `mode`'s intents not settled yet (pending, sent, open), all but `exceptId` — a
 * prepared statement (one round trip, planned once per connection). Ids start at 1, so 0 excludes nothing.
 */
/** An order of ours not settled yet (pending, sent, open), as the pre-trade gate counts it. */
export interface UnsettledIntent {
  id: number;
  symbol: string;
  status: string;
  createdAt: Date;
}

export async function unsettledIntents(db: Db, mode: Mode, exceptId: number): Promise<UnsettledIntent[]> {
  const rows = await executePrepared<{ id: number | string; symbol: string; status: string; created_at: string | Date }>(db, sql`
    select id, symbol, status, created_at from order_intents
    where mode = ${mode} and status in ${unsettledStatusList} and id <> ${exceptId}`);
  return rows.map((o) => ({ id: Number(o.id), symbol: o.symbol, status: o.status, createdAt: new Date(o.created_at) }));
}

/** True when every order the ledger holds was placed on the replay feed (or there is none). */
export async function onlyReplayOrders(db: Db): Promise<boolean> {
  const [row] = await db.select({ any: sql<boolean>`true` }).from(orderIntents).where(ne(orderIntents.feed, 'replay')).limit(1);
  return row === undefined;
}
