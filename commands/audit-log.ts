// `audit-log`: prints the append-only command trail (command_log) — every operator command from
// Slack, the terminal and the bot's jobs, allowed or refused, with its arguments and result.
// Filters: since a duration ago or an ISO time, one actor, one command (or its first word).
import { z } from 'zod';
import { parseDuration } from '../src/config/duration.js';
import { readCommandLog } from '../src/db/queries/command-log.js';
import { AppError } from '../src/errors.js';
import { defineCommand } from './define.js';

export const AUDIT_LOG_MAX_LIMIT = 1000;
export const AUDIT_LOG_DEFAULT_LIMIT = 50;

export const auditLogArgs = z
  .object({
    since: z.string().optional(),
    user: z.string().optional(),
    command: z.string().optional(),
    limit: z.union([z.string(), z.number()]).optional(),
  })
  .strict();

export interface AuditLogFilters {
  since: string | null;
  user: string | null;
  command: string | null;
  limit: number;
}

export interface AuditLogEntry {
  id: number;
  at: string;
  source: 'slack' | 'cli' | 'http' | 'system';
  actor: string;
  command: string;
  args: string;
  allowed: boolean;
  result: string;
  details: Record<string, unknown>;
}

export interface AuditLogResult {
  ok: true;
  filters: AuditLogFilters;
  /** Oldest first: the newest `limit` entries that match. */
  entries: AuditLogEntry[];
  /** True when older matching entries were left out by the limit. */
  more: boolean;
}

const usage = (code: string, message: string) => new AppError('usage', code, message);

/** "2h" / "7d" (that long before now) or an ISO 8601 date or time; a clear usage error otherwise. */
export function parseSince(text: string, now: Date): Date {
  const t = text.trim();
  const ms = parseDuration(t);
  if (ms !== undefined) return new Date(now.getTime() - ms);
  const at = /^\d{4}-\d{2}-\d{2}([T ][0-9:.]+(Z|[+-]\d{2}:?\d{2})?)?$/i.test(t) ? new Date(t) : null;
  if (!at || Number.isNaN(at.getTime())) {
    throw usage('bad_since', `--period: expected a duration such as 30m, 2h or 7d, or an ISO date/time such as 2026-11-20 or 2026-11-20T09:30Z, got "${t}".`);
  }
  if (at.getTime() > now.getTime()) throw usage('bad_since', `--period: ${at.toISOString()} is in the future; nothing can have been recorded after it yet.`);
  return at;
}

export function parseLimit(raw: string | number | undefined): number {
  if (raw === undefined) return AUDIT_LOG_DEFAULT_LIMIT;
  const text = String(raw).trim();
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < 1 || n > AUDIT_LOG_MAX_LIMIT) {
    throw usage('bad_limit', `--limit: expected a whole number from 1 to ${AUDIT_LOG_MAX_LIMIT}, got "${text}".`);
  }
  return n;
}

/** A Slack user id (or <@mention>), `cli:<name>` or `system:<job>`, as recorded. */
export function parseActor(raw: string): string {
  const t = raw.trim();
  const mention = /^<@([UW][A-Z0-9]{2,})(?:\|[^>]*)?>$/.exec(t) ?? /^@([UW][A-Z0-9]{2,})$/.exec(t);
  if (mention) return mention[1]!;
  if (/^[UW][A-Z0-9]{2,}$/.test(t) || /^(cli|system|http):[^\s]+$/.test(t)) return t;
  throw usage('bad_user', `--user: expected a Slack user id such as U012ABCDEF, cli:<name> or system:<job>, got "${t}".`);
}

export function parseCommandFilter(raw: string): string {
  const t = raw.trim().replace(/^\//, '').replace(/\s+/g, ' ');
  if (!/^[a-z][a-z0-9 _-]{0,63}$/i.test(t)) {
    throw usage('bad_command', `--command: expected a command name such as kill, mode or "mode paper", got "${raw}".`);
  }
  return t.toLowerCase();
}

export const auditLogCommand = defineCommand({
  name: 'audit-log',
  summary: 'print the command trail: who ran which command, when, with what result (allowed or refused)',
  role: 'reader',
  args: auditLogArgs,
  async run(ctx, args): Promise<AuditLogResult> {
    const since = args.since === undefined ? undefined : parseSince(args.since, ctx.clock.now());
    const actor = args.user === undefined ? undefined : parseActor(args.user);
    const command = args.command === undefined ? undefined : parseCommandFilter(args.command);
    const limit = parseLimit(args.limit);
    const { entries, more } = await readCommandLog(ctx.db, { since, actor, command, limit });
    return {
      ok: true,
      filters: { since: since?.toISOString() ?? null, user: actor ?? null, command: command ?? null, limit },
      entries: entries.map((e) => ({
        id: e.id, at: e.at.toISOString(), source: e.source, actor: e.actor, command: e.command,
        args: e.args, allowed: e.allowed, result: e.result, details: e.details,
      })),
      more,
    };
  },
});
