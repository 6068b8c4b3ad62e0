// Owns the operator-facing records: audit runs and the append-only command trail.
import { bigserial, boolean, index, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

const at = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const auditRuns = pgTable(
  'audit_runs',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    at: at('at').notNull(),
    actor: text('actor').notNull(),
    mode: text('mode', { enum: ['paper', 'live'] }).notNull(),
    dryRun: boolean('dry_run').notNull(),
    passed: boolean('passed').notNull(),
    summary: text('summary').notNull(),
    results: jsonb('results').$type<unknown[]>().notNull(),
  },
  (t) => [index('audit_runs_at').on(t.at)],
);

/** Every operator command, allowed or refused. Append-only: nothing updates or deletes rows. */
export const commandLog = pgTable(
  'command_log',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    at: at('at').notNull(),
    source: text('source', { enum: ['slack', 'cli', 'http', 'system'] }).notNull(),
    actor: text('actor').notNull(),
    command: text('command').notNull(),
    args: text('args').notNull(),
    allowed: boolean('allowed').notNull(),
    result: text('result').notNull(),
    details: jsonb('details').$type<Record<string, unknown>>().notNull().default({}),
  },
  (t) => [index('command_log_at').on(t.at)],
);

export type AuditRun = typeof auditRuns.$inferSelect;
export type CommandLogEntry = typeof commandLog.$inferSelect;
