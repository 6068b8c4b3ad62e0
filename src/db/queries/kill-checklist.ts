// Owns the statements on an incident's checklist items: writing the items a kill opens, reading them
// in order or one by key, and the conditional updates that keep a record honest — done only while
// not done (the first person and time stand), an attempt (pending or failed) never over a done item
// (nor a pending one over the failed answer of its own request),
// a done item reopened only when a cancel again finds orders still open, a handed-over item finished
// only while it still waits on that very request, and an answer's announcement claimed once across
// processes (outcome.threadNoted set by one UPDATE).
import { and, eq, isNotNull, isNull, ne, or, sql } from 'drizzle-orm';
import type { Db } from '../client.js';
import { incidentChecklistItems, type ChecklistItemKey, type IncidentChecklistItem } from '../schema/index.js';

export async function insertChecklistItems(db: Db, incidentId: number, items: ReadonlyArray<{ item: ChecklistItemKey; label: string }>): Promise<void> {
  await db.insert(incidentChecklistItems).values(items.map((c, i) => ({ incidentId, item: c.item, position: i + 1, label: c.label })));
}

/** The checklist of one incident, in order. */
export async function checklistItemsOf(db: Db, incidentId: number): Promise<IncidentChecklistItem[]> {
  return db.select().from(incidentChecklistItems).where(eq(incidentChecklistItems.incidentId, incidentId)).orderBy(incidentChecklistItems.position);
}

const itemWhere = (incidentId: number, item: ChecklistItemKey) =>
  and(eq(incidentChecklistItems.incidentId, incidentId), eq(incidentChecklistItems.item, item));

export async function checklistItem(db: Db, incidentId: number, item: ChecklistItemKey): Promise<IncidentChecklistItem | undefined> {
  const [row] = await db.select().from(incidentChecklistItems).where(itemWhere(incidentId, item));
  return row;
}

/** Done by `by` at `at`, only if not done yet; undefined when it already was. `requestId` undefined leaves it as it is. */
export async function markChecklistItemDone(
  db: Db,
  input: { incidentId: number; item: ChecklistItemKey; at: Date; by: string; outcome: Record<string, unknown>; requestId?: number | null },
): Promise<IncidentChecklistItem | undefined> {
  const [updated] = await db
    .update(incidentChecklistItems)
    .set({
      state: 'done', doneAt: input.at, doneBy: input.by, outcome: input.outcome,
      ...(input.requestId !== undefined ? { requestId: input.requestId } : {}),
    })
    .where(and(itemWhere(input.incidentId, input.item), isNull(incidentChecklistItems.doneAt)))
    .returning();
  return updated;
}

/**
 * A pending or failed attempt, only on an item not done — and a pending one on request R never over
 * R's own failed answer (R finished meanwhile); undefined when it was not written.
 */
export async function markChecklistItemAttempt(
  db: Db,
  input: { incidentId: number; item: ChecklistItemKey; state: 'pending' | 'failed'; outcome: Record<string, unknown>; requestId: number | null },
): Promise<IncidentChecklistItem | undefined> {
  const answered = input.state === 'pending' && input.requestId !== null
    ? or(ne(incidentChecklistItems.state, 'failed'), isNull(incidentChecklistItems.requestId), ne(incidentChecklistItems.requestId, input.requestId))
    : undefined;
  const [updated] = await db
    .update(incidentChecklistItems)
    .set({ state: input.state, outcome: input.outcome, requestId: input.requestId })
    .where(and(itemWhere(input.incidentId, input.item), isNull(incidentChecklistItems.doneAt), answered))
    .returning();
  return updated;
}

/**
 * A done item whose fact no longer holds (a cancel again found orders still open on Kraken): failed
 * with `outcome`, its done record cleared. Only while it is done; undefined otherwise.
 */
export async function reopenChecklistItem(
  db: Db,
  input: { incidentId: number; item: ChecklistItemKey; outcome: Record<string, unknown> },
): Promise<IncidentChecklistItem | undefined> {
  const [updated] = await db
    .update(incidentChecklistItems)
    .set({ state: 'failed', doneAt: null, doneBy: null, requestId: null, outcome: input.outcome })
    .where(and(itemWhere(input.incidentId, input.item), isNotNull(incidentChecklistItems.doneAt)))
    .returning();
  return updated;
}

/**
 * Done (by `by` at `at`) or failed with `outcome`, only while the item still points at `requestId`
 * and is not done; undefined otherwise.
 */
export async function finishChecklistItemOfRequest(
  db: Db,
  input: { incidentId: number; item: ChecklistItemKey; requestId: number; ok: boolean; at: Date; by: string; outcome: Record<string, unknown> },
): Promise<IncidentChecklistItem | undefined> {
  const [updated] = await db
    .update(incidentChecklistItems)
    .set(input.ok
      ? { state: 'done', doneAt: input.at, doneBy: input.by, outcome: input.outcome }
      : { state: 'failed', outcome: input.outcome })
    .where(and(itemWhere(input.incidentId, input.item), eq(incidentChecklistItems.requestId, input.requestId), ne(incidentChecklistItems.state, 'done')))
    .returning();
  return updated;
}

/**
 * Still pending with `outcome` (the handler of `requestId` tries again later), only while the item
 * points at `requestId` and is not done; undefined otherwise.
 */
export async function notePendingChecklistItemOfRequest(
  db: Db,
  input: { incidentId: number; item: ChecklistItemKey; requestId: number; outcome: Record<string, unknown> },
): Promise<IncidentChecklistItem | undefined> {
  const [updated] = await db
    .update(incidentChecklistItems)
    .set({ state: 'pending', outcome: input.outcome })
    .where(and(itemWhere(input.incidentId, input.item), eq(incidentChecklistItems.requestId, input.requestId), ne(incidentChecklistItems.state, 'done')))
    .returning();
  return updated;
}

/** Sets outcome.threadNoted unless set: true for the one caller that set it. */
export async function claimChecklistAnnouncement(db: Db, itemId: number): Promise<boolean> {
  const claimed = await db.update(incidentChecklistItems)
    .set({ outcome: sql`coalesce(${incidentChecklistItems.outcome}, '{}'::jsonb) || '{"threadNoted": true}'::jsonb` })
    .where(and(eq(incidentChecklistItems.id, itemId), sql`${incidentChecklistItems.outcome}->>'threadNoted' is null`))
    .returning({ id: incidentChecklistItems.id });
  return claimed.length > 0;
}
