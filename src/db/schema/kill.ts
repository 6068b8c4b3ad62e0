// Owns the incident records a kill opens: one incident per kill (grouped: a second kill while
// halted joins the open incident) and its manual-intervention checklist, each item recording
// who did it and when.
import { sql } from 'drizzle-orm';
import { bigserial, index, integer, jsonb, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';

const at = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/**
 * The digests of what an incident's checklist message shows (services/kill/incident-thread.ts):
 * facts (item states), meaning (the words without clock-derived ages), payload (as shown); when it
 * was shown (ISO); updating while a process is sending it; notBefore after Slack refused an update.
 */
export interface ThreadShown {
  facts: string;
  meaning: string;
  payload: string;
  at: string;
  updating: boolean;
  notBefore?: string;
}

export const incidents = pgTable(
  'incidents',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    /** The kill's own id (uuid): replaying a pending kill or a Slack retry never opens a second incident. */
    killId: text('kill_id').notNull(),
    openedAt: at('opened_at').notNull(),
    openedBy: text('opened_by').notNull(),
    trigger: text('trigger', { enum: ['manual', 'auto'] }).notNull(),
    reason: text('reason').notNull(),
    status: text('status', { enum: ['open', 'closed'] }).notNull().default('open'),
    /** What the exchange cancel did: per venue, how many cancelled, which orders survived. */
    cancelReport: jsonb('cancel_report').$type<Record<string, unknown>>().notNull().default({}),
    slackChannel: text('slack_channel'),
    slackTs: text('slack_ts'),
    /**
     * What the thread's checklist message last showed, for every process that keeps it in step: one
     * home, so replicas neither re-post the same content nor update it faster than Slack allows.
     */
    threadShown: jsonb('thread_shown').$type<ThreadShown>(),
    closedAt: at('closed_at'),
    closedBy: text('closed_by'),
  },
  (t) => [
    uniqueIndex('incidents_kill_id').on(t.killId),
    // At most one open incident: a kill while one is open joins it.
    uniqueIndex('incidents_one_open').on(t.status).where(sql`${t.status} = 'open'`),
    index('incidents_opened_at').on(t.openedAt),
  ],
);

export const incidentChecklistItems = pgTable(
  'incident_checklist_items',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    incidentId: integer('incident_id').notNull().references(() => incidents.id),
    item: text('item', { enum: ['cancel_orders', 'close_positions', 'reconcile_ledger', 'notify_stakeholders'] }).notNull(),
    position: integer('position').notNull(),
    label: text('label').notNull(),
    doneAt: at('done_at'),
    doneBy: text('done_by'),
    /** todo → pending (handed to the engine's process as an engine request) → done | failed. */
    state: text('state', { enum: ['todo', 'pending', 'done', 'failed'] }).notNull().default('todo'),
    requestId: integer('request_id'),
    /** What doing it found (orders cancelled, positions closed, reconcile summary, a note). */
    outcome: jsonb('outcome').$type<Record<string, unknown>>(),
  },
  (t) => [uniqueIndex('incident_checklist_items_item').on(t.incidentId, t.item)],
);

/**
 * Each kill saved in DATA_DIR that a replay wrote to the database (services/kill/replay-pending.ts),
 * inserted in the transaction that writes its halt: two processes replaying one saved kill at once
 * (the bot's halt watcher and a shell's self-heal) both find it written, and only the one whose
 * insert made the row raises its alert and posts its incident thread.
 */
export const killReplays = pgTable('kill_replays', {
  killId: text('kill_id').primaryKey(),
  replayedAt: at('replayed_at').notNull(),
  /** The process that wrote it, or took its announcement over (host:pid): the one that announces it. */
  replayedBy: text('replayed_by').notNull(),
  /**
   * When its announcement (the critical alert) was stored. Null until then: the process named above
   * announces it, and when it has not within ANNOUNCE_LEASE_MS (it died, or a step after the write
   * failed), any later replay takes the announcement over.
   */
  announcedAt: at('announced_at'),
});

export type Incident = typeof incidents.$inferSelect;
export type IncidentChecklistItem = typeof incidentChecklistItems.$inferSelect;
export type ChecklistItemKey = IncidentChecklistItem['item'];
