// Owns the append-only command trail (command_log): writing one row per command attempt (text
// cleaned of what PostgreSQL refuses; rows written together go in one statement, src/db/coalesce.ts),
// and reading it for `ctb audit-log` — the newest entries that match the filters, returned oldest
// first, plus whether older matching entries were left out.
import { and, desc, eq, gte, or, sql, type SQL } from 'drizzle-orm';
import { cleanJson, cleanText } from '../clean-text.js';
import type { Db } from '../client.js';
import { BUSY_WINDOW_MS, perDatabase } from '../coalesce.js';
import { executePrepared } from '../prepared.js';
import { commandLog, type CommandLogEntry } from '../schema/index.js';

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

/** A row as the statement takes it: text cleaned, the time as ISO text, details as JSON text. */
export interface StoredRow {
  at: string;
  source: string;
  actor: string;
  command: string;
  args: string;
  allowed: boolean;
  result: string;
  details: string;
}

/** The statement behind insertCommandLog, for one row or several. */
export async function writeCommandLogRows(db: Db, rows: StoredRow[]): Promise<void[]> {
  if (rows.length === 1) {
    const r = rows[0]!;
    await executePrepared(
      db,
      sql`insert into command_log (at, source, actor, command, args, allowed, result, details)
          values (${r.at}::timestamptz, ${r.source}, ${r.actor}, ${r.command}, ${r.args}, ${r.allowed}, ${r.result}, ${r.details}::jsonb)`,
    );
  } else {
    // Every column as text[] cast in SQL: postgres.js types an array by its first element (a
    // boolean array became one boolean) and drizzle passes timestamp arrays unserialized.
    const col = <K extends keyof StoredRow>(k: K) => sql.param(rows.map((r) => String(r[k])));
    await executePrepared(
      db,
      sql`insert into command_log (at, source, actor, command, args, allowed, result, details)
          select * from unnest(${col('at')}::text[]::timestamptz[], ${col('source')}::text[], ${col('actor')}::text[], ${col('command')}::text[],
                               ${col('args')}::text[], ${col('allowed')}::text[]::boolean[], ${col('result')}::text[], ${col('details')}::text[]::jsonb[])`,
    );
  }
  return rows.map(() => undefined);
}

const appendRow = perDatabase(writeCommandLogRows, { busyWindowMs: BUSY_WINDOW_MS });

/**
 * One row per attempt, resolved once it is written. Every command writes one, so rows written in
 * the same turn of the event loop share one prepared statement (one round trip, one commit).
 */
export function insertCommandLog(
  db: Db,
  entry: { at: Date; source: string; actor: string; command: string; args: string; allowed: boolean; result: string; details: Record<string, unknown> },
): Promise<void> {
  return appendRow(db, {
    at: entry.at.toISOString(), source: entry.source, actor: cleanText(entry.actor), command: entry.command,
    args: cleanText(entry.args.slice(0, 2000)), allowed: entry.allowed, result: cleanText(entry.result.slice(0, 2000)),
    details: JSON.stringify(cleanJson(entry.details)),
  });
}
