// Owns the SQL behind go-live audit checks that count rows: closed paper trades on real prices and
// their realised PnL (text, exact), critical alerts in a window (test alerts excluded), closed
// trades lacking capital_buffer, and the last review summary posted.
import { and, desc, eq, gte, inArray, isNotNull, isNull, sql } from 'drizzle-orm';
import type { Db } from '../client.js';
import { alertEvents, alertGroups, scheduledReports, trades } from '../schema/index.js';

/** Closed paper trades on Kraken's prices (replay trades never count) and their realised PnL summed. */
export async function closedPaperTradeFacts(db: Db): Promise<{ count: number; pnl: string }> {
  const [row] = await db
    .select({ n: sql<number>`count(*)::int`, pnl: sql<string>`coalesce(sum(${trades.realizedPnl}), 0)::text` })
    .from(trades)
    .where(and(eq(trades.mode, 'paper'), eq(trades.feed, 'kraken'), eq(trades.status, 'closed')));
  return { count: row?.n ?? 0, pnl: row?.pnl ?? '0' };
}

/**
 * Critical alert events since `since` (test alerts excluded). `incidentId`: the open incident a
 * resume would close — its own alert group (`kill:<id>`, the kill's and its halt cancel's), once
 * resolved, is counted apart as `excused`; an unresolved one counts like any other.
 * `paperReturnFingerprints`: groups that record a return to paper and what it left (the live approval
 * withdrawn by an unarmed engine, live positions left unchecked on Kraken). Each of their events is
 * judged by its own time: one raised before someone acknowledged or resolved the group is counted apart
 * as `safetyActions` whatever the incident; one raised after the acknowledgement counts until the group
 * is resolved. A new event joins an acknowledged group without reopening it, so the group's status alone
 * would excuse a page raised again days later (live positions still unchecked) that nobody has looked at.
 */
export async function criticalAlertsSince(
  db: Db, since: Date, incidentId: number | null = null, paperReturnFingerprints: readonly string[] = [],
): Promise<{ counted: number; excused: number; safetyActions: number }> {
  const excusedGroup = incidentId === null
    ? sql<boolean>`false`
    : sql<boolean>`(${alertGroups.fingerprint} = ${`kill:${incidentId}`} and ${alertGroups.status} = 'resolved')`;
  const safetyGroup = paperReturnFingerprints.length === 0
    ? sql<boolean>`false`
    : sql<boolean>`(${inArray(alertGroups.fingerprint, [...paperReturnFingerprints])} and (
        (${alertGroups.status} in ('acknowledged', 'resolved') and ${alertGroups.acknowledgedAt} >= ${alertEvents.at})
        or (${alertGroups.status} = 'resolved' and ${alertGroups.resolvedAt} >= ${alertEvents.at})))`;
  const [row] = await db
    .select({
      counted: sql<number>`count(*) filter (where not ${excusedGroup} and not ${safetyGroup})::int`,
      excused: sql<number>`count(*) filter (where ${excusedGroup})::int`,
      safetyActions: sql<number>`count(*) filter (where ${safetyGroup} and not ${excusedGroup})::int`,
    })
    .from(alertEvents)
    .innerJoin(alertGroups, eq(alertGroups.id, alertEvents.groupId))
    .where(and(eq(alertEvents.severity, 'critical'), gte(alertEvents.at, since), eq(alertGroups.test, false)));
  return { counted: row?.counted ?? 0, excused: row?.excused ?? 0, safetyActions: row?.safetyActions ?? 0 };
}

/** Closed trades, how many lack capital_buffer, and the ids of up to `sample` of those. */
export async function capitalBufferFacts(db: Db, sample: number): Promise<{ closed: number; missing: number; ids: number[] }> {
  const [row] = await db
    .select({ closed: sql<number>`count(*)::int`, missing: sql<number>`count(*) filter (where ${trades.capitalBuffer} is null)::int` })
    .from(trades)
    .where(eq(trades.status, 'closed'));
  const closed = row?.closed ?? 0;
  const missing = row?.missing ?? 0;
  if (missing === 0) return { closed, missing, ids: [] };
  const ids = await db.select({ id: trades.id }).from(trades).where(and(eq(trades.status, 'closed'), isNull(trades.capitalBuffer))).limit(sample);
  return { closed, missing, ids: ids.map((r) => r.id) };
}

export async function lastPostedReport(db: Db) {
  const [last] = await db.select().from(scheduledReports).where(isNotNull(scheduledReports.postedAt)).orderBy(desc(scheduledReports.postedAt)).limit(1);
  return last;
}
