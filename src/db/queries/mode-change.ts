// Owns the SQL of the live-switch sign-off record: locking a change request, moving it between
// statuses (only from the expected ones), appending to its trail, the approvers' votes (read,
// withdraw, upsert), the approvals that still stand, and reading complete records back.
import { and, asc, desc, eq, inArray, isNull, lte, sql } from 'drizzle-orm';
import { execute, type Db } from '../client.js';
import {
  modeChangeEvents, modeChangeRequests, modeChangeVotes, OPEN_STATUSES,
  type ModeChangeEvent, type ModeChangeRequest, type ModeChangeVote, type ModeEventKind, type ModeRequestStatus,
} from '../schema/index.js';

export async function appendEvent(
  db: Db,
  e: { requestId: number; at: Date; kind: ModeEventKind; actor: string; details?: Record<string, unknown> },
): Promise<void> {
  await db.insert(modeChangeEvents).values({ ...e, details: e.details ?? {} });
}

/** Locks the request row for the rest of the transaction: every decision on it is serialised. */
export async function lockRequest(db: Db, where: { id: number } | { channel: string; ts: string }): Promise<ModeChangeRequest | undefined> {
  const condition =
    'id' in where
      ? eq(modeChangeRequests.id, where.id)
      : and(eq(modeChangeRequests.slackChannel, where.channel), eq(modeChangeRequests.slackTs, where.ts));
  const rows = await db.select().from(modeChangeRequests).where(condition).for('update');
  return rows[0];
}

/**
 * Moves a request from one of `from` to `to`, only if it is still in one of `from`. Returns the
 * updated row, or undefined when another actor got there first — the caller then does nothing.
 */
export async function transition(
  db: Db,
  id: number,
  from: ModeRequestStatus[],
  to: ModeRequestStatus,
  patch: Partial<Omit<ModeChangeRequest, 'id' | 'status'>> = {},
): Promise<ModeChangeRequest | undefined> {
  const rows = await db
    .update(modeChangeRequests)
    .set({ ...patch, status: to })
    .where(and(eq(modeChangeRequests.id, id), inArray(modeChangeRequests.status, from)))
    .returning();
  return rows[0];
}

/** Approvals still standing, from users who are approvers now, never the requester. */
export async function standingApprovals(db: Db, request: ModeChangeRequest, approvers: string[]): Promise<ModeChangeVote[]> {
  const eligible = approvers.filter((a) => a !== request.requester);
  if (eligible.length === 0) return [];
  return db
    .select()
    .from(modeChangeVotes)
    .where(
      and(
        eq(modeChangeVotes.requestId, request.id),
        eq(modeChangeVotes.kind, 'approve'),
        isNull(modeChangeVotes.withdrawnAt),
        inArray(modeChangeVotes.slackUser, eligible),
      ),
    )
    .orderBy(asc(modeChangeVotes.addedAt), asc(modeChangeVotes.id));
}

export async function findOpenRequest(db: Db): Promise<ModeChangeRequest | undefined> {
  const rows = await db
    .select()
    .from(modeChangeRequests)
    .where(inArray(modeChangeRequests.status, OPEN_STATUSES))
    .orderBy(desc(modeChangeRequests.id))
    .limit(1);
  return rows[0];
}

export interface SignOff {
  request: ModeChangeRequest;
  votes: ModeChangeVote[];
  events: ModeChangeEvent[];
}

/** Complete sign-off records, newest first (or the one with `id`). */
export async function loadSignOffs(db: Db, opts: { limit: number; id?: number; status?: ModeRequestStatus }): Promise<SignOff[]> {
  const requests = await db
    .select()
    .from(modeChangeRequests)
    .where(
      and(
        opts.id === undefined ? sql`true` : eq(modeChangeRequests.id, opts.id),
        opts.status === undefined ? sql`true` : eq(modeChangeRequests.status, opts.status),
      ),
    )
    .orderBy(desc(modeChangeRequests.id))
    .limit(opts.limit);
  if (requests.length === 0) return [];
  const ids = requests.map((r) => r.id);
  const [votes, events] = await Promise.all([
    db.select().from(modeChangeVotes).where(inArray(modeChangeVotes.requestId, ids)).orderBy(asc(modeChangeVotes.id)),
    db.select().from(modeChangeEvents).where(inArray(modeChangeEvents.requestId, ids)).orderBy(asc(modeChangeEvents.id)),
  ]);
  return requests.map((request) => ({
    request,
    votes: votes.filter((v) => v.requestId === request.id),
    events: events.filter((e) => e.requestId === request.id),
  }));
}

/** The change request posted as this Slack message, if any (without a lock: for filtering and permission). */
export async function requestForMessage(db: Db, where: { channel: string; ts: string }): Promise<{ id: number; requester: string } | undefined> {
  const rows = await db
    .select({ id: modeChangeRequests.id, requester: modeChangeRequests.requester })
    .from(modeChangeRequests)
    .where(and(eq(modeChangeRequests.slackChannel, where.channel), eq(modeChangeRequests.slackTs, where.ts)))
    .limit(1);
  return rows[0];
}

/** Where the request was posted in Slack, if it was (without a lock: to read its reactions outside a transaction). */
export async function messageOfRequest(db: Db, id: number): Promise<{ channel: string; ts: string } | undefined> {
  const [row] = await db
    .select({ channel: modeChangeRequests.slackChannel, ts: modeChangeRequests.slackTs })
    .from(modeChangeRequests)
    .where(eq(modeChangeRequests.id, id));
  return row?.channel && row.ts ? { channel: row.channel, ts: row.ts } : undefined;
}

/** The user's vote of this kind on the request (standing or withdrawn), if any. */
export async function findVote(db: Db, input: { requestId: number; user: string; kind: 'approve' | 'reject' }): Promise<ModeChangeVote | undefined> {
  const [row] = await db
    .select()
    .from(modeChangeVotes)
    .where(and(eq(modeChangeVotes.requestId, input.requestId), eq(modeChangeVotes.slackUser, input.user), eq(modeChangeVotes.kind, input.kind)));
  return row;
}

export async function withdrawVote(db: Db, input: { id: number; at: Date; eventTs: string }): Promise<void> {
  await db.update(modeChangeVotes).set({ withdrawnAt: input.at, lastEventTs: input.eventTs }).where(eq(modeChangeVotes.id, input.id));
}

/**
 * Withdraws a vote whose reaction Slack no longer shows (its removal event never arrived). Its last
 * event's ts is kept: the late removal is then "nothing to withdraw", and only a newer add stands again.
 */
export async function withdrawVoteUnseen(db: Db, input: { id: number; at: Date }): Promise<void> {
  await db.update(modeChangeVotes).set({ withdrawnAt: input.at }).where(eq(modeChangeVotes.id, input.id));
}

/** Re-adding a withdrawn approval stands again; a repeated add of a standing one changes nothing. */
export async function upsertVote(
  db: Db,
  input: { requestId: number; user: string; kind: 'approve' | 'reject'; at: Date; eventTs: string },
): Promise<void> {
  await db
    .insert(modeChangeVotes)
    .values({ requestId: input.requestId, slackUser: input.user, kind: input.kind, addedAt: input.at, lastEventTs: input.eventTs })
    .onConflictDoUpdate({
      target: [modeChangeVotes.requestId, modeChangeVotes.slackUser, modeChangeVotes.kind],
      // The standing approval dates from the latest add; the trail keeps the earlier ones.
      set: {
        addedAt: sql`case when ${modeChangeVotes.withdrawnAt} is null then ${modeChangeVotes.addedAt} else excluded.added_at end`,
        withdrawnAt: null,
        lastEventTs: input.eventTs,
      },
    });
}

/**
 * Requests still `requested` past their expiry, and approved ones whose switch stalled (approved
 * `stallMs` or longer ago). Judged by the database's now(), the clock expires_at and approved_at are
 * written on: a process whose clock is minutes off neither closes a request early nor leaves it open.
 */
export async function overdueRequestIds(db: Db, input: { stallMs: number }): Promise<{ expired: number[]; stalled: number[] }> {
  const expired = await db
    .select({ id: modeChangeRequests.id })
    .from(modeChangeRequests)
    .where(and(eq(modeChangeRequests.status, 'requested'), lte(modeChangeRequests.expiresAt, sql`now()`)));
  const stalled = await db
    .select({ id: modeChangeRequests.id })
    .from(modeChangeRequests)
    .where(and(eq(modeChangeRequests.status, 'approved'),
      lte(modeChangeRequests.approvedAt, sql`now() - ${Math.round(input.stallMs)} * interval '1 millisecond'`)));
  return { expired: expired.map((r) => r.id), stalled: stalled.map((r) => r.id) };
}

/** Locks every open request for the transaction (the first lock of a mode switch: requests, then bot_state). */
export async function lockOpenRequests(db: Db): Promise<ModeChangeRequest[]> {
  return db.select().from(modeChangeRequests).where(inArray(modeChangeRequests.status, OPEN_STATUSES)).for('update');
}

export async function insertRequest(db: Db, values: typeof modeChangeRequests.$inferInsert): Promise<ModeChangeRequest> {
  const [row] = await db.insert(modeChangeRequests).values(values).returning();
  return row!;
}

/** Where the request was posted in Slack (reactions on that message are the votes). */
export async function setRequestMessage(db: Db, input: { id: number; channel: string; ts: string }): Promise<ModeChangeRequest | undefined> {
  const [row] = await db
    .update(modeChangeRequests)
    .set({ slackChannel: input.channel, slackTs: input.ts })
    .where(eq(modeChangeRequests.id, input.id))
    .returning();
  return row;
}

/** The closings whose event may mark the request's announcement pending (details.announce). */
export const ANNOUNCED_CLOSINGS = ['expired', 'failed', 'rejected', 'withdrawn', 'switched'] as const;

/**
 * Requests closed (expired, failed, rejected, withdrawn, switched to live) with their announcement pending — marked so in the
 * closing event, committed with the closing — neither announced nor failed for good, and whose last
 * attempt is over: none yet, a claim older than `claimStaleMs` (its process stopped before recording
 * what became of it), or a failed attempt whose retryAt has come. Only `ids` when given.
 */
export async function pendingAnnouncements(db: Db, input: { claimStaleMs: number; ids?: number[] }): Promise<number[]> {
  const rows = await db
    .select({ id: modeChangeEvents.requestId })
    .from(modeChangeEvents)
    .where(and(
      inArray(modeChangeEvents.kind, [...ANNOUNCED_CLOSINGS]),
      sql`${modeChangeEvents.details}->>'announce' = 'pending'`,
      ...(input.ids ? [inArray(modeChangeEvents.requestId, input.ids)] : []),
      sql`not exists (select 1 from ${modeChangeEvents} e where e.request_id = ${modeChangeEvents.requestId} and e.kind in ('announced', 'announce_failed'))`,
      sql`coalesce((select case when e.kind = 'announcing' then e.at <= now() - ${Math.round(input.claimStaleMs)} * interval '1 millisecond'
        else (e.details->>'retryAt')::timestamptz <= now() end
        from ${modeChangeEvents} e where e.request_id = ${modeChangeEvents.requestId} and e.kind in ('announcing', 'announce_pending')
        order by e.id desc limit 1), true)`,
    ))
    .orderBy(asc(modeChangeEvents.requestId));
  return rows.map((r) => r.id);
}

/** How many times a request's announcement was claimed (each claim is one attempt). */
export async function announceAttempts(db: Db, requestId: number): Promise<number> {
  const [row] = await db
    .select({ n: sql<number>`count(*)::int` })
    .from(modeChangeEvents)
    .where(and(eq(modeChangeEvents.requestId, requestId), eq(modeChangeEvents.kind, 'announcing')));
  return row?.n ?? 0;
}

/** Where a request's announcement stands, read under its row lock: whose claim is the latest, and whether it is settled. */
export interface AnnounceStanding {
  /** The latest claim's attempt number and when it was made (database clock); null when never claimed. */
  latest: { attempt: number; at: Date } | null;
  /** Delivered (`announced`) or failed for good (`announce_failed`): no attempt records anything more. */
  settled: boolean;
  /** The database's clock now. */
  now: Date;
}

export async function announceStanding(db: Db, requestId: number): Promise<AnnounceStanding> {
  const [claim] = await db
    .select({ at: modeChangeEvents.at, details: modeChangeEvents.details })
    .from(modeChangeEvents)
    .where(and(eq(modeChangeEvents.requestId, requestId), eq(modeChangeEvents.kind, 'announcing')))
    .orderBy(desc(modeChangeEvents.id))
    .limit(1);
  const [row] = await execute<{ now: Date | string; settled: boolean }>(db, sql`select now() as now, exists (select 1 from ${modeChangeEvents} e
    where e.request_id = ${requestId} and e.kind in ('announced', 'announce_failed')) as settled`);
  const attempt = Number(claim?.details?.['attempt']);
  return {
    latest: claim && Number.isFinite(attempt) ? { attempt, at: claim.at } : null,
    settled: row?.settled === true,
    now: new Date(row!.now),
  };
}

/**
 * Announcements pending (marked so at their closing, neither delivered nor failed for good) since
 * `afterMs` or longer on the database's clock, whose overdue alert was not raised yet; only `ids` when
 * given. Each with the moment its announcement became pending (its closing's).
 */
export async function overdueAnnouncements(db: Db, input: { afterMs: number; ids?: number[] }): Promise<Array<{ id: number; since: Date }>> {
  const only = input.ids ? sql`and c.request_id in (${sql.join(input.ids.map((id) => sql`${id}`), sql`, `)})` : sql``;
  const rows = await execute<{ id: number | string; since: Date | string }>(db, sql`select c.request_id as id, min(c.at) as since from ${modeChangeEvents} c
    where c.details->>'announce' = 'pending' ${only}
      and not exists (select 1 from ${modeChangeEvents} e where e.request_id = c.request_id
        and e.kind in ('announced', 'announce_failed', 'announce_overdue'))
    group by c.request_id
    having min(c.at) <= now() - ${Math.round(input.afterMs)} * interval '1 millisecond'
    order by c.request_id`);
  return rows.map((r) => ({ id: Number(r.id), since: new Date(r.since) }));
}

/**
 * Requests whose overdue announcement alert was raised and whose announcement is now settled — delivered,
 * or failed for good (which raises its own alert) — the overdue alert not yet resolved.
 */
export async function deliveredOverdueAnnouncements(db: Db, input: { ids?: number[] } = {}): Promise<Array<{ id: number; fingerprint: string; failed: boolean }>> {
  const only = input.ids ? sql`and o.request_id in (${sql.join(input.ids.map((id) => sql`${id}`), sql`, `)})` : sql``;
  const rows = await execute<{ id: number | string; fingerprint: string; failed: boolean }>(db, sql`select o.request_id as id, o.details->>'fingerprint' as fingerprint,
      not exists (select 1 from ${modeChangeEvents} e where e.request_id = o.request_id and e.kind = 'announced') as failed
    from ${modeChangeEvents} o
    where o.kind = 'announce_overdue' ${only}
      and exists (select 1 from ${modeChangeEvents} e where e.request_id = o.request_id and e.kind in ('announced', 'announce_failed'))
      and not exists (select 1 from ${modeChangeEvents} e where e.request_id = o.request_id and e.kind = 'announce_overdue_resolved')
    order by o.request_id`);
  return rows.map((r) => ({ id: Number(r.id), fingerprint: r.fingerprint, failed: r.failed === true }));
}
