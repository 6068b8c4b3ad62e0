// Owns the append-only command trail (command_log): writing one row per command attempt (text
// cleaned of what PostgreSQL refuses; rows written together go in one statement, with the Slack
// delivery claims issued with them: shared-writes.ts), and reading it for `ctb audit-log` — the
// newest entries that match the filters, returned oldest first, plus whether older matching
// entries were left out.
import { and, desc, eq, gte, or, sql, type SQL } from 'drizzle-orm';
import { cleanJson, cleanText } from '../clean-text.js';
import type { Db } from '../client.js';
import { commandLog, type CommandLogEntry } from '../schema/index.js';
import { appendTrailRow } from './shared-writes.js';

export interface CommandLogFilter {
  since?: Date | undefined;
  /** Exact actor: a Slack user id (U…), `cli:<user>`, `system:<job>`. */
  actor?: string | undefined;
  /** A command name or its first word(s): `mode` matches `mode`, `mode status`, `mode-status`; `mode status` matches `mode-status`. */
  command?: string | undefined;
  limit: number;
}

const likeEscape = (text: string) => text.replace(/[\\%_]/g, (c) => `\\${c}`);

export async function readCommandLog(db: Db, filter: CommandLogFilter): Promise<{ entries: CommandLogEntry[]; more: boolean }> {
  const where: SQL[] = [];
  if (filter.since) where.push(gte(commandLog.at, filter.since));
  if (filter.actor) where.push(eq(commandLog.actor, filter.actor));
  if (filter.command) {
    const name = filter.command.toLowerCase();
    const prefix = likeEscape(name);
    where.push(
      or(
        sql`lower(${commandLog.command}) = ${name}`,
        sql`lower(${commandLog.command}) like ${`${prefix} %`}`,
        sql`lower(${commandLog.command}) like ${`${prefix}-%`}`,
        // Rows written before a command took the name it is typed by (`incident-done`, now `incident done`).
        sql`lower(${commandLog.command}) = ${name.replace(/ /g, '-')}`,
      )!,
    );
  }
  const rows = await db
    .select()
    .from(commandLog)
    .where(where.length > 0 ? and(...where) : undefined)
    .orderBy(desc(commandLog.at), desc(commandLog.id))
    .limit(filter.limit + 1);
  const more = rows.length > filter.limit;
  return { entries: rows.slice(0, filter.limit).reverse(), more };
}

/**
 * One row per attempt, resolved once it is written. Every command writes one, so rows written in
 * the same turn of the event loop (and under load, the same window) share one prepared statement,
 * with the Slack claims issued with them (one round trip, one commit).
 */
export function insertCommandLog(
  db: Db,
  entry: { at: Date; source: string; actor: string; command: string; args: string; allowed: boolean; result: string; details: Record<string, unknown> },
): Promise<void> {
  return appendTrailRow(db, {
    at: entry.at.toISOString(), source: entry.source, actor: cleanText(entry.actor), command: entry.command,
    args: cleanText(entry.args.slice(0, 2000)), allowed: entry.allowed, result: cleanText(entry.result.slice(0, 2000)),
    details: JSON.stringify(cleanJson(entry.details)),
  });
}

/**
 * One row inside the caller's transaction, committed (or not) with what it records: for a system
 * decision whose record and trail must not part (the engine lease's live withdrawal). Not coalesced.
 */
export async function insertCommandLogIn(
  tx: Db,
  entry: { at: Date; source: CommandLogEntry['source']; actor: string; command: string; args: string; allowed: boolean; result: string; details: Record<string, unknown> },
): Promise<void> {
  await tx.insert(commandLog).values({
    at: entry.at, source: entry.source, actor: cleanText(entry.actor), command: entry.command, args: cleanText(entry.args.slice(0, 2000)),
    allowed: entry.allowed, result: cleanText(entry.result.slice(0, 2000)), details: cleanJson(entry.details),
  });
}
