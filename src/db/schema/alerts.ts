// Owns the alert outbox and the on-call tables. An alert is stored (alert_events, grouped by
// fingerprint into alert_groups) before anything is sent; alert_deliveries is the outbox the worker
// drains with FOR UPDATE SKIP LOCKED; alert_escalations are the paging timers (rows with a due time);
// alert_slack_pacing is the per-channel send slot shared by every replica.
import { sql } from 'drizzle-orm';
import {
  bigint, bigserial, boolean, index, integer, jsonb, pgTable, smallint, text, timestamp, uniqueIndex,
} from 'drizzle-orm/pg-core';

const at = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });
const SEVERITIES = ['info', 'warning', 'critical'] as const;

/**
 * One Slack thread: every alert with this fingerprint while the group is not resolved.
 * `version` grows on every change Slack should show (count, severity, status);
 * `reported_version` / `reported_event_id` are what Slack shows already.
 */
export const alertGroups = pgTable(
  'alert_groups',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    fingerprint: text('fingerprint').notNull(),
    source: text('source').notNull(),
    severity: text('severity', { enum: SEVERITIES }).notNull(),
    title: text('title').notNull(),
    status: text('status', { enum: ['open', 'acknowledged', 'resolved'] }).notNull().default('open'),
    count: integer('count').notNull().default(1),
    firstAt: at('first_at').notNull(),
    lastAt: at('last_at').notNull(),
    test: boolean('test').notNull().default(false),
    slackChannel: text('slack_channel'),
    slackTs: text('slack_ts'),
    version: integer('version').notNull().default(1),
    reportedVersion: integer('reported_version').notNull().default(0),
    reportedEventId: bigint('reported_event_id', { mode: 'number' }).notNull().default(0),
    acknowledgedBy: text('acknowledged_by'),
    acknowledgedAt: at('acknowledged_at'),
    resolvedBy: text('resolved_by'),
    resolvedAt: at('resolved_at'),
    silencedUntil: at('silenced_until'),
    silencedBy: text('silenced_by'),
  },
  (t) => [
    // At most one live group per fingerprint; a resolved group is closed and a repeat opens a new thread.
    uniqueIndex('alert_groups_live_fingerprint').on(t.fingerprint).where(sql`${t.status} <> 'resolved'`),
    index('alert_groups_last_at').on(t.lastAt),
  ],
);

/** Every raised alert, as raised. Append-only. */
export const alertEvents = pgTable(
  'alert_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    groupId: bigint('group_id', { mode: 'number' }).notNull(),
    at: at('at').notNull(),
    source: text('source').notNull(),
    severity: text('severity', { enum: SEVERITIES }).notNull(),
    title: text('title').notNull(),
    details: jsonb('details').$type<Record<string, unknown>>().notNull().default({}),
    /**
     * An alert kept in memory while the database was away carries its own key when it is stored late:
     * a store that gave up at its deadline but committed all the same is never stored a second time.
     */
    raiseKey: text('raise_key'),
  },
  (t) => [
    index('alert_events_group').on(t.groupId, t.id),
    uniqueIndex('alert_events_raise_key').on(t.raiseKey).where(sql`${t.raiseKey} is not null`),
  ],
);

export const DELIVERY_KINDS = ['slack_sync', 'slack_thread_note', 'slack_dm', 'email'] as const;
export type DeliveryKind = (typeof DELIVERY_KINDS)[number];

/**
 * The outbox. `slack_sync` brings a group's Slack parent and thread up to date (one pending per
 * group); the others are single messages (timeline notes, pages by DM, email). A delivery is
 * retried until sent: there is no terminal failure state but two. A message that stopped making
 * sense before it went out (a page for a group since acknowledged or resolved) is `cancelled`, with
 * when and why, and kept. A page by DM that Slack refuses for good (no such user, deactivated) is
 * `failed` at once, and the escalation moves on.
 */
export const alertDeliveries = pgTable(
  'alert_deliveries',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    groupId: bigint('group_id', { mode: 'number' }).notNull(),
    kind: text('kind', { enum: DELIVERY_KINDS }).notNull(),
    /** Pacing key: `slack:<channel or user id>` or `email`. */
    lane: text('lane').notNull(),
    /** Channel id, user id or email addresses. */
    target: text('target').notNull(),
    priority: smallint('priority').notNull().default(0),
    payload: jsonb('payload').$type<Record<string, unknown>>().notNull().default({}),
    /** 'failed': given up at once on a permanent refusal (a page to a person Slack does not know). */
    status: text('status', { enum: ['pending', 'sent', 'cancelled', 'failed'] }).notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: at('next_attempt_at').notNull(),
    lastError: text('last_error'),
    createdAt: at('created_at').notNull(),
    sentAt: at('sent_at'),
    result: jsonb('result').$type<Record<string, unknown>>(),
    cancelledAt: at('cancelled_at'),
    cancelledReason: text('cancelled_reason'),
  },
  (t) => [
    uniqueIndex('alert_deliveries_one_pending_sync').on(t.groupId).where(sql`${t.kind} = 'slack_sync' and ${t.status} = 'pending'`),
    index('alert_deliveries_due').on(t.lane, t.priority, t.nextAttemptAt).where(sql`${t.status} = 'pending'`),
    index('alert_deliveries_group').on(t.groupId),
  ],
);

/** One row per lane: when the next message may go out there (Slack's ~1/s/channel and Retry-After). */
export const alertSlackPacing = pgTable('alert_slack_pacing', {
  lane: text('lane').primaryKey(),
  nextAt: at('next_at').notNull(),
});

/**
 * Escalation timer for one critical group: which step is next and when it is due. `silenced` is a
 * paused timer, due when the group's silence ends: then, if nobody acknowledged or resolved the
 * group meanwhile, the ladder starts again from its first rung. Pages are recorded by absolute
 * round; `round_base` is the rounds before the current run of the ladder (what the round limit
 * and "round n/m" count from).
 */
export const alertEscalations = pgTable(
  'alert_escalations',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    groupId: bigint('group_id', { mode: 'number' }).notNull(),
    severity: text('severity', { enum: SEVERITIES }).notNull(),
    round: integer('round').notNull().default(1),
    roundBase: integer('round_base').notNull().default(0),
    step: integer('step').notNull().default(0),
    dueAt: at('due_at').notNull(),
    status: text('status', { enum: ['active', 'silenced', 'stopped', 'exhausted'] }).notNull().default('active'),
    stoppedReason: text('stopped_reason'),
    /** Set once the first page went unanswered past its deadline (the auto-kill hook fires once). */
    overdueAt: at('overdue_at'),
    startedAt: at('started_at').notNull(),
    updatedAt: at('updated_at').notNull(),
  },
  (t) => [
    uniqueIndex('alert_escalations_group').on(t.groupId),
    index('alert_escalations_due').on(t.dueAt).where(sql`${t.status} in ('active', 'silenced')`),
  ],
);

/** Who was paged, when, at which rung. Unique per rung, so two replicas cannot page twice. */
export const alertPages = pgTable(
  'alert_pages',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    groupId: bigint('group_id', { mode: 'number' }).notNull(),
    round: integer('round').notNull(),
    step: integer('step').notNull(),
    userId: text('user_id').notNull(),
    reason: text('reason').notNull(),
    at: at('at').notNull(),
  },
  (t) => [uniqueIndex('alert_pages_once').on(t.groupId, t.round, t.step, t.userId)],
);

/** Escalation policy per severity. steps: 'oncall' | 'next' | 'approvers', in order. */
export const alertPolicies = pgTable('alert_policies', {
  severity: text('severity', { enum: SEVERITIES }).primaryKey(),
  steps: jsonb('steps').$type<string[]>().notNull(),
  ackSlaMs: integer('ack_sla_ms').notNull(),
  maxRounds: integer('max_rounds').notNull(),
  email: boolean('email').notNull(),
  updatedAt: at('updated_at').notNull(),
  updatedBy: text('updated_by').notNull(),
});

/** `ctb alerts test` results, per channel: the go-live audit reads the latest. */
export const alertTests = pgTable(
  'alert_tests',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    at: at('at').notNull(),
    actor: text('actor').notNull(),
    severity: text('severity', { enum: SEVERITIES }).notNull(),
    groupId: bigint('group_id', { mode: 'number' }),
    ok: boolean('ok').notNull(),
    channels: jsonb('channels').$type<Record<string, { status: 'sent' | 'failed' | 'not_configured'; error?: string }>>().notNull(),
  },
  (t) => [index('alert_tests_at').on(t.at)],
);

/** The on-call rotation: ordered members, weekly handoff at a local day/time in a time zone. */
export const oncallRotations = pgTable('oncall_rotations', {
  id: integer('id').primaryKey().default(1),
  members: jsonb('members').$type<string[]>().notNull(),
  /** ISO weekday, 1 = Monday … 7 = Sunday. */
  handoffWeekday: smallint('handoff_weekday').notNull(),
  handoffTime: text('handoff_time').notNull(),
  timeZone: text('time_zone').notNull(),
  /** The shift start at which members[0] was on call: the rotation counts weeks from here. */
  anchorAt: at('anchor_at').notNull(),
  updatedAt: at('updated_at').notNull(),
  updatedBy: text('updated_by').notNull(),
});

export const oncallOverrides = pgTable(
  'oncall_overrides',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    userId: text('user_id').notNull(),
    startsAt: at('starts_at').notNull(),
    endsAt: at('ends_at').notNull(),
    createdBy: text('created_by').notNull(),
    createdAt: at('created_at').notNull(),
  },
  (t) => [index('oncall_overrides_range').on(t.startsAt, t.endsAt)],
);

export type AlertGroup = typeof alertGroups.$inferSelect;
export type AlertEvent = typeof alertEvents.$inferSelect;
export type AlertDelivery = typeof alertDeliveries.$inferSelect;
export type AlertEscalation = typeof alertEscalations.$inferSelect;
export type AlertPolicy = typeof alertPolicies.$inferSelect;
export type OncallRotation = typeof oncallRotations.$inferSelect;
export type OncallOverride = typeof oncallOverrides.$inferSelect;
