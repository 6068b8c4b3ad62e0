// Owns the operator-facing records: audit runs, the go-live gate policy they are held to, and the
// append-only command trail.
import { sql } from 'drizzle-orm';
import type { EngineLogScan } from '../../domain/engine-log-scan.js';
import type { AuditSettings, EngineLimits, GateThresholds } from '../../domain/golive-thresholds.js';
import { bigint, bigserial, boolean, check, index, integer, jsonb, numeric, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

const at = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const auditRuns = pgTable(
  'audit_runs',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    at: at('at').notNull(),
    actor: text('actor').notNull(),
    /** The engine's mode when the run was made (domain/engine-mode.ts): unknown while a stale armed holder may resume LIVE trading. */
    mode: text('mode', { enum: ['paper', 'live', 'unknown'] }).notNull(),
    dryRun: boolean('dry_run').notNull(),
    passed: boolean('passed').notNull(),
    summary: text('summary').notNull(),
    results: jsonb('results').$type<unknown[]>().notNull(),
    /** The go-live thresholds the run judged by; null on runs stored before they were recorded (never gating). */
    thresholds: jsonb('thresholds').$type<GateThresholds>(),
  },
  (t) => [index('audit_runs_at').on(t.at)],
);

/**
 * The gate policy: the go-live thresholds and audit settings the engine runs with, recorded by the process holding the
 * engine lease when it takes it. One row. Resume and the live switch hold every audit to it, so a
 * shell's environment cannot loosen what counts as a pass.
 */
export const golivePolicy = pgTable(
  'golive_policy',
  {
    id: integer('id').primaryKey().default(1),
    minPaperTrades: integer('min_paper_trades').notNull(),
    minRoiPct: numeric('min_roi_pct').notNull(),
    alertWindowMs: bigint('alert_window_ms', { mode: 'number' }).notNull(),
    /** The other settings an audit can pass by; null on a row recorded before they were part of the policy. */
    auditSettings: jsonb('audit_settings').$type<AuditSettings>(),
    /** The engine's pre-trade limits and the strategies file it loaded; null on a row recorded before they were part of the policy. */
    engineLimits: jsonb('engine_limits').$type<EngineLimits>(),
    /** The engine's newest scan of its own LOG_DIR (published at start and every few minutes); null until one is. */
    logScan: jsonb('log_scan').$type<EngineLogScan>(),
    /** The engine's process: host:pid (role). */
    recordedBy: text('recorded_by').notNull(),
    recordedAt: at('recorded_at').notNull(),
  },
  (t) => [check('golive_policy_singleton', sql`${t.id} = 1`)],
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

export type { GateThresholds } from '../../domain/golive-thresholds.js';
export type AuditRun = typeof auditRuns.$inferSelect;
export type GolivePolicy = typeof golivePolicy.$inferSelect;
export type CommandLogEntry = typeof commandLog.$inferSelect;
