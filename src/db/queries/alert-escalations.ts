// Owns the SQL of the escalation ladder: taking the due steps (FOR UPDATE SKIP LOCKED, so two
// replicas never run one step), reading what a step needs, moving an escalation on or stopping
// it, and recording a page once per rung (the unique alert_pages row is the second guard).
import { eq, sql } from 'drizzle-orm';
import { execute, type Db } from '../client.js';
import { executePrepared } from '../prepared.js';
import { alertEscalations, type AlertEscalation } from '../schema/alerts.js';

const spanOf = (ms: number) => sql`${Math.round(Math.max(0, ms))} * interval '1 millisecond'`;

/** Due escalations, as lockDueEscalations takes them (`groupId`: of one group). */
const dueWhere = (groupId: number | undefined) =>
  sql`status in ('active', 'silenced') and due_at <= now()${groupId === undefined ? sql`` : sql` and group_id = ${groupId}`}`;

/**
 * Whether any escalation is due, without a transaction or a lock: the tick runs every second on
 * every replica, and nearly every tick finds none. Prepared: the same text at every tick.
 */
export async function anyDueEscalation(db: Db, groupId?: number): Promise<boolean> {
  const [row] = await executePrepared<{ due: boolean }>(db, sql`select exists (select 1 from alert_escalations where ${dueWhere(groupId)}) as due`);
  return row?.due === true;
}

/**
 * Locks up to `limit` due escalations — active ones, and silenced ones whose silence is due to end —
 * for the rest of the transaction; their ids, oldest due first. `groupId` limits it to one group.
 * Due is judged by the database's now(), the clock due_at is written on: a replica whose clock is
 * minutes off neither pages early nor late.
 */
export async function lockDueEscalations(db: Db, input: { limit: number; groupId?: number }): Promise<number[]> {
  const rows = await execute<{ id: string | number }>(db, sql`
    select id from alert_escalations
    where ${dueWhere(input.groupId)}
    order by due_at, id limit ${input.limit}
    for update skip locked`);
  return rows.map((r) => Number(r.id));
}

export async function escalationById(db: Db, id: number): Promise<AlertEscalation | undefined> {
  const [row] = await db.select().from(alertEscalations).where(eq(alertEscalations.id, id)).limit(1);
  return row;
}

/** The group's escalation (one at most), whatever its state. */
export async function escalationOfGroup(db: Db, groupId: number): Promise<AlertEscalation | undefined> {
  const [row] = await db.select().from(alertEscalations).where(eq(alertEscalations.groupId, groupId)).limit(1);
  return row;
}

/**
 * The step ran: the next one is due `inMs` after the database's now(); with `overdue`, the first
 * deadline passed and overdue_at is that now() (kept once set). Returns overdue_at (null when not
 * overdue). The timer is active again (a step after a silence resumes it), counting rounds from `roundBase`.
 */
export async function advanceEscalation(
  db: Db,
  input: { id: number; round: number; roundBase: number; step: number; inMs: number; overdue: boolean; now: Date },
): Promise<Date | null> {
  const [row] = await execute<{ overdue_at: string | Date | null }>(db, sql`
    update alert_escalations set status = 'active', stopped_reason = null,
      round = ${input.round}, round_base = ${input.roundBase}, step = ${input.step},
      due_at = now() + ${spanOf(input.inMs)},
      overdue_at = coalesce(overdue_at, case when ${input.overdue}::boolean then now() end),
      updated_at = ${input.now.toISOString()}::timestamptz
    where id = ${input.id}
    returning overdue_at`);
  return row?.overdue_at == null ? null : new Date(row.overdue_at);
}

export async function endEscalation(
  db: Db,
  input: { id: number; status: 'stopped' | 'exhausted'; stoppedReason: string; now: Date },
): Promise<void> {
  await execute(db, sql`update alert_escalations set status = ${input.status}, stopped_reason = ${input.stoppedReason},
    updated_at = ${input.now.toISOString()}::timestamptz where id = ${input.id}`);
}

/** Stops a group's active or silenced escalation (an acknowledge or a resolve). */
export async function stopGroupEscalation(db: Db, input: { groupId: number; reason: string; now: Date }): Promise<void> {
  await execute(db, sql`update alert_escalations set status = 'stopped', stopped_reason = ${input.reason},
    updated_at = ${input.now.toISOString()}::timestamptz
    where group_id = ${input.groupId} and status in ('active', 'silenced')`);
}

/** A silence's end as a due time: what is left of it (`until` less the writer's `now`) after the database's now(). */
const silenceEnds = (input: { until: Date; now: Date }) => sql`now() + ${spanOf(input.until.getTime() - input.now.getTime())}`;

/**
 * Pauses a group's escalation until `until` (a silence): due then, when the escalation tick starts
 * the ladder again if the group is still open. An exhausted ladder is paused too: once the silence
 * ends on an alert still open, paging starts over. An acknowledged or resolved group's stays stopped.
 * How many it paused (0: no ladder was running or waiting for this group).
 */
export async function silenceGroupEscalation(db: Db, input: { groupId: number; reason: string; until: Date; now: Date }): Promise<number> {
  const paused = await execute(db, sql`update alert_escalations set status = 'silenced', stopped_reason = ${input.reason},
    due_at = ${silenceEnds(input)}, updated_at = ${input.now.toISOString()}::timestamptz
    where group_id = ${input.groupId} and status in ('active', 'silenced', 'exhausted')
    returning id`);
  return paused.length;
}

/** Pauses one escalation until its group's silence ends (see silenceGroupEscalation). */
export async function silenceEscalation(db: Db, input: { id: number; reason: string; until: Date; now: Date }): Promise<void> {
  await execute(db, sql`update alert_escalations set status = 'silenced', stopped_reason = ${input.reason},
    due_at = ${silenceEnds(input)}, updated_at = ${input.now.toISOString()}::timestamptz
    where id = ${input.id}`);
}

/** Records that `userId` was paged on this rung; false when that page is already recorded (another replica). */
export async function recordPage(
  db: Db,
  input: { groupId: number; round: number; step: number; userId: string; reason: string; at: Date },
): Promise<boolean> {
  const inserted = await execute(db, sql`
    insert into alert_pages (group_id, round, step, user_id, reason, at)
    values (${input.groupId}, ${input.round}, ${input.step}, ${input.userId}, ${input.reason}, ${input.at.toISOString()}::timestamptz)
    on conflict do nothing returning id`);
  return inserted.length > 0;
}

/** Critical groups still open (not acknowledged, not resolved) whose first page went unanswered, oldest deadline first. */
export async function listOverdueCriticals(db: Db): Promise<Array<{ groupId: number; fingerprint: string; title: string; source: string; firstAt: Date; overdueAt: Date }>> {
  const rows = await execute<{ id: string | number; fingerprint: string; title: string; source: string; first_at: string | Date; overdue_at: string | Date }>(db, sql`
    select g.id, g.fingerprint, g.title, g.source, g.first_at, e.overdue_at
    from alert_groups g join alert_escalations e on e.group_id = g.id
    where g.severity = 'critical' and g.status = 'open' and not g.test and e.overdue_at is not null and e.status in ('active', 'exhausted')
    order by e.overdue_at`);
  return rows.map((r) => ({
    groupId: Number(r.id), fingerprint: r.fingerprint, title: r.title, source: r.source,
    firstAt: new Date(r.first_at), overdueAt: new Date(r.overdue_at),
  }));
}

/** Whether `userId` was paged for this group (on any rung). */
export async function wasPaged(db: Db, input: { groupId: number; userId: string }): Promise<boolean> {
  const [paged] = await execute<{ n: number }>(db, sql`
    select count(*)::int as n from alert_pages where group_id = ${input.groupId} and user_id = ${input.userId}`);
  return (paged?.n ?? 0) > 0;
}

/**
 * A page of (round, step) could not be delivered: when that step is the latest one run and none of
 * its other pages is pending or sent, the next step is due now instead of one ACK SLA later.
 * True when it moved the escalation on.
 */
export async function bringNextStepForward(db: Db, input: { groupId: number; round: number; step: number; deliveryId: number; now: Date }): Promise<boolean> {
  const now = input.now.toISOString();
  const moved = await execute(db, sql`
    update alert_escalations e set due_at = now(), updated_at = ${now}::timestamptz
    where e.group_id = ${input.groupId} and e.status = 'active' and e.round = ${input.round} and e.step = ${input.step + 1}
      and e.due_at > now()
      and not exists (
        select 1 from alert_deliveries d
        where d.group_id = ${input.groupId} and d.kind = 'slack_dm' and d.status in ('pending', 'sent') and d.id <> ${input.deliveryId}
          and d.payload->>'round' = ${String(input.round)} and d.payload->>'step' = ${String(input.step)})
    returning e.id`);
  return moved.length > 0;
}

/** Everyone paged for this group in `round` (on any rung). */
export async function pagedInRound(db: Db, input: { groupId: number; round: number }): Promise<Set<string>> {
  const rows = await execute<{ user_id: string }>(db, sql`
    select distinct user_id from alert_pages where group_id = ${input.groupId} and round = ${input.round}`);
  return new Set(rows.map((r) => r.user_id));
}

/**
 * A page of (round, step) was delivered: when that step is the latest one run, its ACK SLA counts
 * from now (the database's), not from when the page was queued; never earlier than already set (a
 * rung that pages several people waits for the last one reached). True when it moved the deadline.
 */
export async function restartAckDeadline(db: Db, input: { groupId: number; round: number; step: number; inMs: number; now: Date }): Promise<boolean> {
  const moved = await execute(db, sql`
    update alert_escalations set due_at = greatest(due_at, now() + ${spanOf(input.inMs)}), updated_at = ${input.now.toISOString()}::timestamptz
    where group_id = ${input.groupId} and status = 'active' and round = ${input.round} and step = ${input.step + 1}
    returning id`);
  return moved.length > 0;
}
