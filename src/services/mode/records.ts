// Owns the queries over the sign-off record: locking a request, appending to its trail, counting
// the approvals that still stand, and reading the complete record back for status and history.
import { and, asc, desc, eq, inArray, isNull, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import {
  modeChangeEvents, modeChangeRequests, modeChangeVotes, OPEN_STATUSES,
  type ModeChangeEvent, type ModeChangeRequest, type ModeChangeVote, type ModeEventKind, type ModeRequestStatus,
} from '../../db/schema/index.js';

/** Distinct approvals a live switch needs. Not configurable: the checklist asks for two people. */
export const APPROVALS_NEEDED = 2;

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

/** Slack timestamps ("1700000000.000100") compared exactly, without going through a float. */
export function compareSlackTs(a: string, b: string): number {
  const parse = (s: string) => {
    const [sec = '0', frac = ''] = s.split('.');
    return BigInt(sec.replace(/\D/g, '') || '0') * 1_000_000n + BigInt((frac.replace(/\D/g, '') + '000000').slice(0, 6));
  };
  const x = parse(a);
  const y = parse(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Cheap pre-check for the Slack listener: is this message a change request at all? */
/** The change request posted as this Slack message, if any (without a lock: for filtering and permission). */
export async function requestForMessage(db: Db, where: { channel: string; ts: string }): Promise<{ id: number; requester: string } | undefined> {
  const rows = await db
    .select({ id: modeChangeRequests.id, requester: modeChangeRequests.requester })
    .from(modeChangeRequests)
    .where(and(eq(modeChangeRequests.slackChannel, where.channel), eq(modeChangeRequests.slackTs, where.ts)))
    .limit(1);
  return rows[0];
}
