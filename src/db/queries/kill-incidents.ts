// Owns the kill's statements on bot_state and incidents: the halt a kill writes (halted and paper,
// authored by the kill, an open kill's first who/why/when kept) and the one a resume lifts (only the halt it judged); the incident a kill opens, joins or
// finds again by its kill id, its cancel report, closing it; reading one (by id, or the open one
// else the latest); and the claim on posting its Slack thread — slack_ts set to `posting:<ms>`
// before posting, so two replicas never both post, and taken over once older than the lease; and what
// its checklist message last showed (thread_shown), swapped only by the process that read it as it was.
import { and, desc, eq, isNotNull, isNull, like, not, or, sql, type SQL } from 'drizzle-orm';
import type { Db } from '../client.js';
import { lockBotState } from './bot-state-row.js';
import { botState, incidents, killReplays, type Incident, type ThreadShown } from '../schema/index.js';

export type NewIncident = typeof incidents.$inferInsert;

/**
 * Halts and switches to paper (version bumped). The kill takes the halt over (`takeOver`): the row then
 * names the kill as its author, so no automatic lift (each lifts only a halt its own actor placed)
 * ever lifts it, and the caller keeps an earlier halt's reason visible within `reason`. Without
 * `takeOver` (the halt is already an open kill's) its first reason, time and actor stay.
 */
export async function haltForKill(db: Db, input: { takeOver: boolean; reason: string; at: Date; actor: string }): Promise<void> {
  await db
    .update(botState)
    .set({
      halted: true,
      mode: 'paper',
      ...(input.takeOver ? { haltedReason: input.reason, haltedAt: input.at, haltedBy: input.actor } : {}),
      version: sql`${botState.version} + 1`,
      updatedAt: input.at,
    })
    .where(eq(botState.id, 1));
}

/** Lifts a halt (staying in paper) only if the bot is halted. */
export async function liftHalt(db: Db, at: Date): Promise<void> {
  await db.update(botState).set({
    halted: false, haltedReason: null, haltedAt: null, haltedBy: null, mode: 'paper',
    version: sql`${botState.version} + 1`, updatedAt: at,
  }).where(and(eq(botState.id, 1), eq(botState.halted, true)));
}

/** The halt a resume judged: as it read the row, and the open incident it closes (if any). */
export interface JudgedHalt {
  halted: boolean;
  haltedBy: string | null;
  haltedAt: Date | null;
  incidentId: number | null;
}

/** Why a resume's lift did not happen: a kill opened another incident, or the halt is not the one judged. */
export type LiftConflict =
  | { kind: 'new_incident'; incidentId: number }
  | { kind: 'halt_changed'; halted: boolean; haltedBy: string | null; haltedAt: Date | null };

/**
 * A resume's lift as a compare-and-set, in one transaction with the bot_state row locked (a kill's
 * halt writes that row, so it waits for this or this for it): lifts the halt (if the bot was halted)
 * and closes the incident only while the row still holds the halt judged (same halted, author and
 * time) and no incident other than the judged one is open. Otherwise changes nothing and says why.
 */
export async function liftJudgedHalt(db: Db, judged: JudgedHalt, input: { at: Date; by: string }): Promise<LiftConflict | null> {
  return db.transaction(async (tx) => {
    const row = await lockBotState(tx);
    const others = await tx.select({ id: incidents.id }).from(incidents)
      .where(and(eq(incidents.status, 'open'), judged.incidentId === null ? undefined : not(eq(incidents.id, judged.incidentId))))
      .orderBy(desc(incidents.id)).limit(1);
    if (others[0]) return { kind: 'new_incident', incidentId: others[0].id };
    const now = { halted: row?.halted ?? false, haltedBy: row?.haltedBy ?? null, haltedAt: row?.haltedAt ?? null };
    if (now.halted !== judged.halted || now.haltedBy !== judged.haltedBy || now.haltedAt?.getTime() !== judged.haltedAt?.getTime()) {
      return { kind: 'halt_changed', ...now };
    }
    if (judged.halted) await liftHalt(tx, input.at);
    if (judged.incidentId !== null) await closeIncident(tx, judged.incidentId, input);
    return null;
  });
}

/**
 * Records that `by` wrote the saved kill, in the transaction that writes its halt (under the bot_state
 * lock). True when `by` is the one to announce it: its insert made the row, or the row is still
 * unannounced and either is `by`'s own (its earlier try failed after the write) or was claimed more
 * than `leaseMs` ago (database time) by a process that has not announced it since — then `by` takes
 * it over. Another process's fresh claim is left to that process.
 */
export async function claimKillReplay(db: Db, input: { killId: string; by: string; leaseMs: number }): Promise<boolean> {
  const rows = await db.insert(killReplays).values({ killId: input.killId, replayedAt: sql`now()`, replayedBy: input.by })
    .onConflictDoNothing({ target: killReplays.killId }).returning({ killId: killReplays.killId });
  if (rows.length === 1) return true;
  const taken = await db.update(killReplays).set({ replayedAt: sql`now()`, replayedBy: input.by })
    .where(and(eq(killReplays.killId, input.killId), isNull(killReplays.announcedAt),
      or(eq(killReplays.replayedBy, input.by), sql`${killReplays.replayedAt} < now() - ${input.leaseMs} * interval '1 millisecond'`)))
    .returning({ killId: killReplays.killId });
  return taken.length === 1;
}

/** Marks the saved kill announced by `by`, if it is still `by`'s to announce: false when it is not (taken over, or announced). */
export async function markKillReplayAnnounced(db: Db, input: { killId: string; by: string }): Promise<boolean> {
  const rows = await db.update(killReplays).set({ announcedAt: sql`now()` })
    .where(and(eq(killReplays.killId, input.killId), eq(killReplays.replayedBy, input.by), isNull(killReplays.announcedAt)))
    .returning({ killId: killReplays.killId });
  return rows.length === 1;
}

/** Whether the saved kill's announcement is stored (a kill no replay wrote has nothing to announce here). */
export async function killReplayAnnounced(db: Db, killId: string): Promise<boolean> {
  const [row] = await db.select({ announcedAt: killReplays.announcedAt }).from(killReplays).where(eq(killReplays.killId, killId));
  return row === undefined || row.announcedAt !== null;
}

export async function incidentByKillId(db: Db, killId: string): Promise<Incident | undefined> {
  const [row] = await db.select().from(incidents).where(eq(incidents.killId, killId));
  return row;
}

/** An open incident (there is at most one: a kill while one is open joins it). */
export async function openIncident(db: Db): Promise<Incident | undefined> {
  const [row] = await db.select().from(incidents).where(eq(incidents.status, 'open'));
  return row;
}

export async function insertIncident(db: Db, values: NewIncident): Promise<Incident> {
  const [row] = await db.insert(incidents).values(values).returning();
  return row!;
}

export async function setIncidentCancelReport(db: Db, killId: string, cancelReport: Record<string, unknown>): Promise<void> {
  await db.update(incidents).set({ cancelReport }).where(eq(incidents.killId, killId));
}

/** Closes the incident only if it is still open. */
export async function closeIncident(db: Db, id: number, input: { at: Date; by: string }): Promise<void> {
  await db.update(incidents).set({ status: 'closed', closedAt: input.at, closedBy: input.by })
    .where(and(eq(incidents.id, id), eq(incidents.status, 'open')));
}

export async function incidentById(db: Db, id: number): Promise<Incident | undefined> {
  const [row] = await db.select().from(incidents).where(eq(incidents.id, id));
  return row;
}

/** The open incident, else the most recent one (status sorts 'open' > 'closed', so desc puts an open one first). */
export async function latestIncident(db: Db): Promise<Incident | undefined> {
  const [row] = await db.select().from(incidents).orderBy(desc(incidents.status), desc(incidents.openedAt), desc(incidents.id)).limit(1);
  return row;
}

/** What slack_ts holds while a process is posting the thread: this prefix and the claim's time in ms. */
export const THREAD_CLAIM_PREFIX = 'posting:';

/** No thread yet, or a claim older than `leaseMs` (its poster died). */
function unposted(now: Date, leaseMs: number): SQL {
  return or(
    isNull(incidents.slackTs),
    sql`(${incidents.slackTs} like ${`${THREAD_CLAIM_PREFIX}%`} and split_part(${incidents.slackTs}, ':', 2)::bigint < ${now.getTime() - leaseMs})`,
  )!;
}

/** Claims posting the incident's thread (slack_ts = `claim`) unless it has one or a live claim; the incident when claimed. */
export async function claimIncidentThread(db: Db, incidentId: number, input: { claim: string; now: Date; leaseMs: number }): Promise<Incident | undefined> {
  const [claimed] = await db.update(incidents).set({ slackTs: input.claim })
    .where(and(eq(incidents.id, incidentId), unposted(input.now, input.leaseMs))).returning();
  return claimed;
}

export async function setIncidentThread(db: Db, incidentId: number, posted: { channel: string; ts: string }): Promise<void> {
  await db.update(incidents).set({ slackChannel: posted.channel, slackTs: posted.ts }).where(eq(incidents.id, incidentId));
}

/** Gives a claim back, only if it is still this one. */
export async function releaseIncidentThreadClaim(db: Db, incidentId: number, claim: string): Promise<void> {
  await db.update(incidents).set({ slackTs: null }).where(and(eq(incidents.id, incidentId), eq(incidents.slackTs, claim)));
}

/** The newest open incident without a thread (or with a stale claim), if any. */
export async function latestUnpostedOpenIncidentId(db: Db, now: Date, leaseMs: number): Promise<number | undefined> {
  const [open] = await db.select({ id: incidents.id }).from(incidents)
    .where(and(eq(incidents.status, 'open'), unposted(now, leaseMs))).orderBy(desc(incidents.id)).limit(1);
  return open?.id;
}

/** Open incidents whose thread is posted (not being posted). */
export async function openIncidentsWithThread(db: Db): Promise<Incident[]> {
  return db.select().from(incidents)
    .where(and(eq(incidents.status, 'open'), isNotNull(incidents.slackTs), not(like(incidents.slackTs, `${THREAD_CLAIM_PREFIX}%`))));
}

/**
 * Sets what the incident's checklist message shows to `next`, only if it is still `expected` (what
 * the caller read): of processes that read the same, one wins. True when this caller's write stood.
 */
export async function swapThreadShown(db: Db, incidentId: number, input: { expected: ThreadShown | null; next: ThreadShown }): Promise<boolean> {
  const still = input.expected === null ? isNull(incidents.threadShown) : sql`${incidents.threadShown} = ${JSON.stringify(input.expected)}::jsonb`;
  const rows = await db.update(incidents).set({ threadShown: input.next }).where(and(eq(incidents.id, incidentId), still)).returning({ id: incidents.id });
  return rows.length > 0;
}
