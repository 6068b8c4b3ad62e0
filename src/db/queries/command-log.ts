// Reads the append-only command trail (command_log) for `ctb audit-log`: the newest entries that
// match the filters, returned oldest first, plus whether older matching entries were left out.
import { and, desc, eq, gte, or, sql, type SQL } from 'drizzle-orm';
import type { Db } from '../client.js';
import { commandLog, type CommandLogEntry } from '../schema/index.js';

export interface CommandLogFilter {
  since?: Date | undefined;
  /** Exact actor: a Slack user id (U…), `cli:<user>`, `system:<job>`. */
  actor?: string | undefined;
  /** A command name or its first word(s): `mode` matches `mode`, `mode status`, `mode-status`. */
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
