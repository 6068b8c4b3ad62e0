// Owns the SQL of draining the alert outbox: which lanes have due work, a lane's pacing row (locked
// FOR UPDATE SKIP LOCKED, so two replicas never send on one lane at once), the next due delivery of
// a lane (locked the same way), and recording each outcome. Values are always parameters; the hot
// statements run prepared. Due times (a delivery's next_attempt_at, a lane's next_at) are written as
// the database's now() plus a span and judged against now() in SQL: every replica sends a message
// when it is due on that one clock, whatever its own clock says.
import { eq, sql, TransactionRollbackError } from 'drizzle-orm';
import { execute, type Db } from '../client.js';
import { executePrepared } from '../prepared.js';
import { alertDeliveries, type AlertDelivery } from '../schema/alerts.js';

const spanOf = (ms: number) => sql`${Math.round(Math.max(0, ms))} * interval '1 millisecond'`;

const ofGroup = (column: string, groupId: number | undefined) =>
  groupId === undefined ? sql`` : sql` and ${sql.raw(column)} = ${groupId}`;

/** Lanes (a Slack channel or DM, or `email`) with a pending delivery due on the database's clock (of one group when `groupId` is given). */
export async function dueLanes(db: Db, input: { limit: number; groupId?: number }): Promise<string[]> {
  const rows = await execute<{ lane: string }>(db, sql`
    select distinct lane from alert_deliveries
    where status = 'pending' and next_attempt_at <= now()${ofGroup('group_id', input.groupId)}
    limit ${input.limit}`);
  return rows.map((r) => r.lane);
}

/** Makes sure the lane has its pacing row (open since the epoch). */
export async function ensureLanePacing(db: Db, lane: string): Promise<void> {
  await execute(db, sql`insert into alert_slack_pacing (lane, next_at) values (${lane}, 'epoch') on conflict do nothing`);
}

/**
 * Locks the lane's pacing row for the transaction; null when another replica holds it, else whether
 * its slot is open on the database's clock. A slot `maxWaitMs` or more ahead was not booked by any
 * wait we honour (the database's clock was set back since): it is taken for open.
 */
export async function lockLanePacing(db: Db, input: { lane: string; maxWaitMs: number }): Promise<{ open: boolean } | null> {
  const rows = await execute<{ open: boolean }>(db, sql`
    select (next_at <= now() or next_at >= now() + ${spanOf(input.maxWaitMs)}) as open
    from alert_slack_pacing where lane = ${input.lane} for update skip locked`);
  return rows.length === 0 ? null : { open: rows[0]!.open === true };
}

/** The lane's next slot opens `inMs` after the database's now(). */
export async function bookLaneSlot(db: Db, input: { lane: string; inMs: number }): Promise<void> {
  await executePrepared(db, sql`update alert_slack_pacing set next_at = now() + ${spanOf(input.inMs)} where lane = ${input.lane}`);
}

/**
 * Locks the lane's most urgent due delivery for the transaction (a thread note waits for its
 * group's parent message); undefined when there is none free. `groupId` takes only that group's.
 */
export async function lockNextDelivery(db: Db, input: { lane: string; groupId?: number }): Promise<AlertDelivery | undefined> {
  const picked = await execute<{ id: string | number }>(db, sql`
    select d.id from alert_deliveries d join alert_groups g on g.id = d.group_id
    where d.lane = ${input.lane} and d.status = 'pending' and d.next_attempt_at <= now()${ofGroup('d.group_id', input.groupId)}
      and (d.kind <> 'slack_thread_note' or g.slack_ts is not null)
    order by d.priority desc, d.next_attempt_at, d.id
    limit 1
    for update of d skip locked`);
  if (picked.length === 0) return undefined;
  const id = Number(picked[0]!.id);
  const [row] = await db.select().from(alertDeliveries).where(eq(alertDeliveries.id, id)).limit(1);
  return row;
}

/** A delivery's relevance (alert-outbox.ts): stored in its payload, else by kind. */
const RELEVANCE = sql`coalesce(d.payload->>'relevance', case when d.kind in ('slack_dm', 'email') then 'until_ack' else 'always' end)`;
/**
 * The group (g) is past what the delivery (d) is about: resolved; acknowledged, for a page;
 * silenced, for a page of a group still open (the ladder pages afresh from its first rung when the
 * silence ends, so a page queued before it is not held for later but let go). The silence lasts
 * until the database's now() reaches silenced_until (written on that clock), whichever replica sends.
 */
const stale = sql`((g.status = 'resolved' and ${RELEVANCE} in ('until_ack', 'until_resolved'))
  or (g.status = 'acknowledged' and ${RELEVANCE} = 'until_ack')
  or (g.status = 'open' and g.silenced_until > now() and ${RELEVANCE} = 'until_ack'))`;
const WHY_STALE = sql`case when g.status = 'resolved' then 'group resolved by ' || coalesce(g.resolved_by, 'someone')
  when g.status = 'acknowledged' then 'group acknowledged by ' || coalesce(g.acknowledged_by, 'someone')
  else 'group silenced by ' || coalesce(g.silenced_by, 'someone') || ' until '
    || to_char(g.silenced_until at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') end`;

/**
 * Checked as the delivery is about to go out (whichever process acted on the group): cancels it,
 * keeping the row with when and why, when its group is past what it is about. The reason, or null
 * when it still makes sense.
 */
export async function cancelIfStale(db: Db, input: { id: number; at: Date }): Promise<string | null> {
  const at = input.at.toISOString();
  const rows = await execute<{ cancelled_reason: string }>(db, sql`
    update alert_deliveries d set status = 'cancelled', cancelled_at = ${at}::timestamptz, cancelled_reason = ${WHY_STALE}
    from alert_groups g
    where d.id = ${input.id} and g.id = d.group_id and d.status = 'pending' and d.kind <> 'slack_sync' and ${stale}
    returning d.cancelled_reason`);
  return rows[0]?.cancelled_reason ?? null;
}

/**
 * Someone acknowledged, resolved or silenced the group (in this transaction): its queued messages
 * that no longer make sense are cancelled now. One a worker is sending right now is skipped, not
 * waited for (actions.ts waits for sends first: see holdGroupForSend).
 */
export async function cancelStaleDeliveries(db: Db, input: { groupId: number; at: Date }): Promise<number> {
  const at = input.at.toISOString();
  const rows = await execute<{ id: string | number }>(db, sql`
    update alert_deliveries d set status = 'cancelled', cancelled_at = ${at}::timestamptz, cancelled_reason = ${WHY_STALE}
    from alert_groups g
    where g.id = d.group_id and d.id in (
        select id from alert_deliveries where group_id = ${input.groupId} and status = 'pending' and kind <> 'slack_sync'
        for update skip locked)
      and ${stale}
    returning d.id`);
  return rows.length;
}

/**
 * The send lock of one alert group (a transaction-level advisory lock on (ALERT_SEND_LOCK, group)):
 * a worker holds it shared from its last look at the group until its send is recorded; a person's
 * action (acknowledge, resolve, silence) holds it exclusively. So no message of the group is handed
 * to Slack or SMTP after an action committed that makes it stale, and an action waits for the sends
 * already under way (for a while: past it, the action changes nothing). Only the worker's side is
 * tried without waiting: it holds the delivery's row lock, which the action may need (deadlock
 * otherwise); it tries again on its next tick.
 */
const ALERT_SEND_LOCK = 727_120;

/** The worker's side: true when no action on the group is under way (the lock is held shared to the commit). */
export async function holdGroupForSend(db: Db, groupId: number): Promise<boolean> {
  const [row] = await execute<{ ok: boolean }>(db, sql`select pg_try_advisory_xact_lock_shared(${ALERT_SEND_LOCK}, ${groupId}::int) as ok`);
  return row?.ok === true;
}

/** A message of the group a worker was sending as an action came (its row is locked by the worker). */
export interface SendUnderWay {
  id: number;
  kind: AlertDelivery['kind'];
  target: string;
  /** What became of it once the action held the send lock: sent, or not (it failed, or is still queued). */
  outcome: 'sent' | 'not_sent';
}

/**
 * What an action found when it asked for the group's send lock: held (exclusively, to its commit),
 * with the messages that were being sent meanwhile; or not held when the wait ran out, with what was
 * holding it (`send`: a worker handing a message to Slack or SMTP; `action`: another acknowledge,
 * resolve or silence of the group).
 */
export type GroupSendWait =
  | { held: true; underWay: SendUnderWay[] }
  | { held: false; underWay: SendUnderWay[]; heldBy: 'send' | 'action' };

const pgCode = (err: unknown): string | undefined => {
  let e = err as { code?: unknown; cause?: unknown } | undefined;
  for (let depth = 0; depth < 5 && e; depth += 1) {
    if (typeof e.code === 'string') return e.code;
    e = e.cause as typeof e;
  }
  return undefined;
};

const idList = (ids: number[]) => sql`(${sql.join(ids.map((id) => sql`${id}`), sql`, `)})`;

/**
 * The group's pending messages that another transaction has locked (a worker sending them). Found
 * with FOR UPDATE SKIP LOCKED inside a savepoint rolled back at once: the probe keeps no row lock,
 * so an action that holds the send lock meanwhile cancels all it should (its cancel skips locked rows).
 */
async function lockedPendingIds(db: Db, groupId: number): Promise<number[]> {
  const pending = (await execute<{ id: string | number }>(db, sql`
    select id from alert_deliveries where group_id = ${groupId} and status = 'pending' and kind <> 'slack_sync'`)).map((p) => Number(p.id));
  if (pending.length === 0) return [];
  let free = new Set<number>();
  try {
    await db.transaction(async (sp) => {
      const rows = await execute<{ id: string | number }>(sp, sql`select id from alert_deliveries where id in ${idList(pending)} for update skip locked`);
      free = new Set(rows.map((r) => Number(r.id)));
      sp.rollback();
    });
  } catch (err) {
    if (!(err instanceof TransactionRollbackError)) throw err;
  }
  return pending.filter((id) => !free.has(id));
}

/** Who holds the group's send lock now: a worker (shared) or another action (exclusive). */
async function sendLockHolder(db: Db, groupId: number): Promise<'send' | 'action'> {
  const [row] = await execute<{ exclusive: boolean | null }>(db, sql`
    select bool_or(mode = 'ExclusiveLock') as exclusive from pg_locks
    where locktype = 'advisory' and granted and database = (select oid from pg_database where datname = current_database())
      and classid::bigint = ${ALERT_SEND_LOCK} and objid::bigint = ${groupId} and objsubid = 2`);
  return row?.exclusive === true ? 'action' : 'send';
}

/**
 * The action's side, first thing in its transaction: takes the group's send lock exclusively,
 * waiting up to `waitMs` for the sends under way (a Slack call that hangs must not hold an operator
 * for ever). When the wait runs out the lock is not held, and the caller must not go on: a page
 * could then go out after its commit unsaid.
 */
export async function waitForGroupSends(db: Db, input: { groupId: number; waitMs: number }): Promise<GroupSendWait> {
  const [free] = await execute<{ ok: boolean }>(db, sql`select pg_try_advisory_xact_lock(${ALERT_SEND_LOCK}, ${input.groupId}::int) as ok`);
  if (free?.ok === true) return { held: true, underWay: [] };
  const underWay = await lockedPendingIds(db, input.groupId);
  let held = true;
  try {
    await db.transaction(async (sp) => {
      const [before] = await execute<{ v: string }>(sp, sql`select current_setting('lock_timeout') as v`);
      await execute(sp, sql`select set_config('lock_timeout', ${`${Math.max(1, Math.round(input.waitMs))}ms`}, true)`);
      await execute(sp, sql`select pg_advisory_xact_lock(${ALERT_SEND_LOCK}, ${input.groupId}::int)`);
      await execute(sp, sql`select set_config('lock_timeout', ${before?.v ?? '0'}, true)`);
    });
  } catch (err) {
    if (pgCode(err) !== '55P03') throw err; // lock_not_available: the wait ran out
    held = false;
  }
  const rows = underWay.length === 0 ? [] : await execute<{ id: string | number; kind: AlertDelivery['kind']; target: string; status: string }>(db, sql`
    select id, kind, target, status from alert_deliveries where id in ${idList(underWay)} order by id`);
  const messages = rows.map((r): SendUnderWay => ({ id: Number(r.id), kind: r.kind, target: r.target, outcome: r.status === 'sent' ? 'sent' : 'not_sent' }));
  return held ? { held, underWay: messages } : { held, underWay: messages, heldBy: await sendLockHolder(db, input.groupId) };
}

/**
 * A page or alert mail about to go out, claimed in a commit of its own before the send: which worker
 * (a token of the process), its how-manieth try, when it began, and whether an earlier try was left
 * unresolved (its worker died or heard nothing back: Slack may hold that page, so the next try looks
 * before it posts; the mail may have gone out, so the next one says it may be a repeat).
 * `earlierAt`: when the first of those unresolved tries began. `notSent`: this try was refused (it
 * certainly did not go out); the claim stays only to carry `earlierAt` on. `dbAt`: when it was
 * claimed on the database's clock (every process judges a claim's age on that one).
 */
export interface SendClaim {
  by: string;
  n: number;
  uncertain: boolean;
  at?: string | undefined;
  earlierAt?: string | undefined;
  notSent?: boolean | undefined;
  dbAt?: string | undefined;
}

const isoOrUndefined = (v: unknown) => (typeof v === 'string' && !Number.isNaN(Date.parse(v)) ? v : undefined);

export function claimOf(d: Pick<AlertDelivery, 'result'>): SendClaim | undefined {
  const c = (d.result as { claim?: Partial<SendClaim> } | null)?.claim;
  if (!c || typeof c.by !== 'string' || typeof c.n !== 'number') return undefined;
  const at = isoOrUndefined(c.at);
  const earlierAt = isoOrUndefined(c.earlierAt);
  const dbAt = isoOrUndefined(c.dbAt);
  return {
    by: c.by, n: c.n, uncertain: c.uncertain === true,
    ...(at ? { at } : {}), ...(earlierAt ? { earlierAt } : {}), ...(c.notSent === true ? { notSent: true } : {}), ...(dbAt ? { dbAt } : {}),
  };
}

/**
 * The claim the next try writes after `previous` (undefined: none): an earlier try is unresolved
 * unless its own was refused; the first unresolved one's start is carried on.
 */
export function nextClaim(previous: SendClaim | undefined, input: { by: string; at: Date }): SendClaim {
  const earlierAt = previous === undefined ? undefined : previous.notSent ? previous.earlierAt : (previous.earlierAt ?? previous.at);
  const uncertain = previous !== undefined && (previous.notSent !== true || previous.uncertain);
  return { by: input.by, n: (previous?.n ?? 0) + 1, uncertain, at: input.at.toISOString(), ...(earlierAt ? { earlierAt } : {}) };
}

/** Records the claim, stamped with the database's now() as `dbAt` (the caller commits it before sending). */
export async function claimDeliverySend(db: Db, input: { id: number; claim: SendClaim }): Promise<void> {
  const { dbAt: _ignored, ...claim } = input.claim;
  await execute(db, sql`
    update alert_deliveries set result = jsonb_build_object('claim', ${JSON.stringify(claim)}::jsonb || jsonb_build_object('dbAt', now()))
    where id = ${input.id}`);
}

/** How long ago, on the database's clock, the delivery's claim was written (undefined: no stamped claim). */
export async function claimAgeMs(db: Db, id: number): Promise<number | undefined> {
  const [row] = await execute<{ ms: string | number | null }>(db, sql`
    select extract(epoch from now() - (result->'claim'->>'dbAt')::timestamptz) * 1000 as ms
    from alert_deliveries where id = ${id} and jsonb_typeof(result->'claim'->'dbAt') = 'string'`);
  return row?.ms === null || row?.ms === undefined ? undefined : Number(row.ms);
}

/** The latest page delivered to each person paged for the group: where it landed (DM channel and ts). */
export async function deliveredPages(db: Db, groupId: number): Promise<Array<{ user: string; channel: string; ts: string }>> {
  const rows = await execute<{ target: string; channel: string; ts: string }>(db, sql`
    select distinct on (target) target, result->>'channel' as channel, result->>'ts' as ts from alert_deliveries
    where group_id = ${groupId} and kind = 'slack_dm' and status = 'sent' and result->>'channel' is not null and result->>'ts' is not null
    order by target, sent_at desc nulls last, id desc`);
  return rows.map((r) => ({ user: r.target, channel: r.channel, ts: r.ts }));
}

/**
 * The person's DM with the bot, as Slack named it in its answer to the latest page recorded sent to
 * them (a page goes to the member id; Slack answers with the DM channel); undefined before any was.
 * Read only after a page's send went unrecorded (rare): no index of its own.
 */
export async function recordedDmChannel(db: Db, user: string): Promise<string | undefined> {
  const [row] = await execute<{ channel: string }>(db, sql`
    select result->>'channel' as channel from alert_deliveries
    where kind = 'slack_dm' and target = ${user} and status = 'sent' and result->>'channel' is not null
    order by sent_at desc nulls last, id desc limit 1`);
  return row?.channel;
}

/** Nothing was left to send (the group is gone or already shows it): the delivery is done. */
export async function markDeliveryDone(db: Db, input: { id: number; at: Date }): Promise<void> {
  await executePrepared(db, sql`update alert_deliveries set status = 'sent', sent_at = ${input.at.toISOString()}::timestamptz where id = ${input.id}`);
}

/** A send went through; `keepPending` leaves it queued for more (a sync that posted part of its work), due at once. */
export async function recordDeliverySent(db: Db, input: { id: number; at: Date; keepPending: boolean; result: unknown }): Promise<void> {
  const at = input.at.toISOString();
  await executePrepared(db, sql`
    update alert_deliveries set
      status = ${input.keepPending ? 'pending' : 'sent'},
      sent_at = ${input.keepPending ? null : at}::timestamptz,
      next_attempt_at = now(),
      result = ${JSON.stringify(input.result)}::jsonb,
      last_error = null
    where id = ${input.id}`);
}

/** A send was refused for good: not retried, the error kept. */
export async function recordDeliveryGaveUp(db: Db, input: { id: number; error: string }): Promise<void> {
  await execute(db, sql`
    update alert_deliveries set status = 'failed', attempts = attempts + 1, last_error = ${input.error} where id = ${input.id}`);
}

/**
 * A send failed: one more attempt counted, the error kept, the next try `inMs` after the database's
 * now() (the same wait whichever replica tried). Returns when that is.
 */
export async function recordDeliveryFailed(db: Db, input: { id: number; error: string; inMs: number }): Promise<Date> {
  const [row] = await execute<{ next_attempt_at: string | Date }>(db, sql`
    update alert_deliveries set attempts = attempts + 1, last_error = ${input.error},
      next_attempt_at = now() + ${spanOf(input.inMs)}
    where id = ${input.id}
    returning next_attempt_at`);
  return new Date(row!.next_attempt_at);
}

/** A page (DM) about one event, locked: queued (its text may still change) or sent (where it landed). */
export interface PageOfEvent {
  id: number;
  status: 'pending' | 'sent';
  text: string;
  channel: string | null;
  ts: string | null;
}

/**
 * The pages about `eventId` (escalation.ts stores it in the page's payload), locked FOR UPDATE SKIP
 * LOCKED: one a worker is sending right now is skipped (that worker looks at the event again once it
 * has sent it, late-pages.ts), the others cannot be taken by a worker until the caller commits.
 */
export async function lockPagesOfEvent(db: Db, input: { groupId: number; eventId: number }): Promise<PageOfEvent[]> {
  const rows = await execute<{ id: string | number; status: 'pending' | 'sent'; text: string | null; channel: string | null; ts: string | null }>(db, sql`
    select id, status, payload->>'text' as text, result->>'channel' as channel, result->>'ts' as ts from alert_deliveries
    where group_id = ${input.groupId} and kind = 'slack_dm' and status in ('pending', 'sent') and payload->>'eventId' = ${String(input.eventId)}
    order by id for update skip locked`);
  return rows.map((r) => ({ id: Number(r.id), status: r.status, text: r.text ?? '', channel: r.channel, ts: r.ts }));
}

/** A queued page's text, rewritten before it is sent. */
export async function rewritePendingPage(db: Db, input: { id: number; text: string }): Promise<void> {
  await execute(db, sql`update alert_deliveries set payload = jsonb_set(payload, '{text}', to_jsonb(${input.text}::text)) where id = ${input.id} and status = 'pending'`);
}

/** A page given up because its step's deadline passed before it could be delivered. */
export interface UndeliveredPage {
  target: string;
  /** The rung it was for, as its page names it ("on-call, round 1/2, step 1/3"). */
  rung: string;
  lastError: string | null;
}

/**
 * The group's pages (DMs) still queued when its escalation moves on: marked failed (never sent later,
 * after a later step's page) and returned. Null, changing nothing, when a worker is sending one of
 * them right now: the caller tries again on its next tick, once that send is recorded.
 */
export async function giveUpUndeliveredPages(db: Db, input: { groupId: number }): Promise<UndeliveredPage[] | null> {
  const pending = await execute<{ id: string | number }>(db, sql`
    select id from alert_deliveries where group_id = ${input.groupId} and kind = 'slack_dm' and status = 'pending'`);
  if (pending.length === 0) return [];
  const free = await execute<{ id: string | number }>(db, sql`
    select id from alert_deliveries where id in ${idList(pending.map((p) => Number(p.id)))} and status = 'pending' for update skip locked`);
  if (free.length < pending.length) return null;
  const rows = await execute<{ target: string; rung: string | null; last_error: string | null }>(db, sql`
    update alert_deliveries d set status = 'failed',
      last_error = 'not delivered before its step''s deadline; the escalation moved on' || coalesce(' (last error: ' || d.last_error || ')', '')
    from alert_deliveries o
    where o.id = d.id and d.id in ${idList(free.map((p) => Number(p.id)))}
    returning d.target, d.payload->>'rung' as rung, o.last_error`);
  return rows.map((r) => ({ target: r.target, rung: r.rung ?? 'an earlier step', lastError: r.last_error }));
}
