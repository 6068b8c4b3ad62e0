// Reads for the App Home dashboard: the open positions (newest first) and the alert groups that are
// not resolved (critical first), each capped, with the total so the view can say how many it left out.
// A test alert's group is among them once it pages (a critical test starts the escalation, whose
// page says to acknowledge it by number); a test that pages nobody is the audit's record only.
import { and, count, desc, eq, ne, or, sql } from 'drizzle-orm';
import type { Db } from '../client.js';
import { alertEscalations, alertGroups, trades } from '../schema/index.js';

export async function openPositions(db: Db, limit: number) {
  const [rows, total] = await Promise.all([
    db
      .select({
        id: trades.id, mode: trades.mode, feed: trades.feed, strategy: trades.strategy, symbol: trades.symbol,
        quantity: trades.quantity, entryPrice: trades.entryPrice, entryAt: trades.entryAt,
      })
      .from(trades)
      .where(eq(trades.status, 'open'))
      .orderBy(desc(trades.entryAt), desc(trades.id))
      .limit(limit),
    db.select({ n: count() }).from(trades).where(eq(trades.status, 'open')),
  ]);
  return { rows, total: total[0]?.n ?? 0 };
}

const SEVERITY_RANK = sql`case ${alertGroups.severity} when 'critical' then 0 when 'warning' then 1 else 2 end`;

/** A group's silence while it lasts on the database's clock (it was written on it); null once it has ended. */
const silenceInForce = sql<Date | null>`case when ${alertGroups.silencedUntil} > now() then ${alertGroups.silencedUntil} end`.mapWith(alertGroups.silencedUntil);

/** The alert groups not resolved, capped at `limit`, and how many there are; silencedUntil only while the silence lasts. */
export async function openAlertGroups(db: Db, limit: number) {
  const paged = sql`exists (select 1 from ${alertEscalations} where ${alertEscalations.groupId} = ${alertGroups.id})`;
  const open = and(ne(alertGroups.status, 'resolved'), or(eq(alertGroups.test, false), paged));
  const [rows, total] = await Promise.all([
    db
      .select({
        id: alertGroups.id, severity: alertGroups.severity, title: alertGroups.title, status: alertGroups.status,
        count: alertGroups.count, firstAt: alertGroups.firstAt, lastAt: alertGroups.lastAt,
        acknowledgedBy: alertGroups.acknowledgedBy, silencedUntil: silenceInForce, test: alertGroups.test,
        slackChannel: alertGroups.slackChannel, slackTs: alertGroups.slackTs,
      })
      .from(alertGroups)
      .where(open)
      .orderBy(SEVERITY_RANK, desc(alertGroups.lastAt), desc(alertGroups.id))
      .limit(limit),
    db.select({ n: count() }).from(alertGroups).where(open),
  ]);
  return { rows, total: total[0]?.n ?? 0 };
}
