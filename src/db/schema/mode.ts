// Owns the sign-off record of mode changes: the change requests (paper → live needs two approvers
// reacting on a Slack message; live → paper is recorded as an immediate, already-switched request),
// the approvers' votes, and an append-only trail of everything that happened to a request.
// The database itself refuses the states that would break invariant 2 (see the checks below).
import { sql } from 'drizzle-orm';
import {
  bigint, bigserial, check, index, jsonb, pgTable, text, timestamp, uniqueIndex,
} from 'drizzle-orm/pg-core';

const at = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const MODE_REQUEST_STATUSES = ['requested', 'approved', 'switched', 'rejected', 'expired', 'failed', 'withdrawn'] as const;
export type ModeRequestStatus = (typeof MODE_REQUEST_STATUSES)[number];
/** Statuses in which a request may still change the mode. At most one request is open at a time. */
export const OPEN_STATUSES: ModeRequestStatus[] = ['requested', 'approved'];

/** A value shown beside its threshold in the request (a paper→live criterion or an audit check). */
export interface RecordedCheck {
  id: string;
  name: string;
  status: 'pass' | 'warn' | 'fail';
  value?: string;
  threshold?: string;
  fix?: string;
}

export const modeChangeRequests = pgTable(
  'mode_change_requests',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    /** Slack user id of the person who asked (cli:<user> only for a paper rollback from the terminal). */
    requester: text('requester').notNull(),
    requesterSource: text('requester_source', { enum: ['slack', 'cli', 'http', 'system'] }).notNull(),
    fromMode: text('from_mode', { enum: ['paper', 'live'] }).notNull(),
    toMode: text('to_mode', { enum: ['paper', 'live'] }).notNull(),
    status: text('status', { enum: MODE_REQUEST_STATUSES }).notNull().default('requested'),
    reason: text('reason'),
    slackChannel: text('slack_channel'),
    slackTs: text('slack_ts'),
    createdAt: at('created_at').notNull(),
    expiresAt: at('expires_at').notNull(),
    /**
     * The go-live audit run shown when the request was opened (audit_runs.id). Not a foreign key on
     * purpose: other areas' tests truncate audit_runs, and a key would make that cascade here.
     */
    auditRunId: bigint('audit_run_id', { mode: 'number' }),
    auditSummary: text('audit_summary'),
    /** Audit checks and paper→live criteria with their values when the request was opened. */
    criteria: jsonb('criteria').$type<RecordedCheck[]>().notNull().default([]),
    /** When the second distinct approval arrived. */
    approvedAt: at('approved_at'),
    /** The audit re-run at quorum: the gate that actually let the switch happen. */
    switchAuditRunId: bigint('switch_audit_run_id', { mode: 'number' }),
    switchAuditSummary: text('switch_audit_summary'),
    /** Where the pre-switch snapshot lives (a directory under BACKUP_DIR) and its record id. */
    snapshotRef: text('snapshot_ref'),
    snapshotId: text('snapshot_id'),
    outcome: text('outcome'),
    decidedAt: at('decided_at'),
    decidedBy: text('decided_by'),
  },
  (t) => [
    check('mode_change_requests_changes_mode', sql`${t.fromMode} <> ${t.toMode}`),
    check('mode_change_requests_expiry_after_creation', sql`${t.expiresAt} >= ${t.createdAt}`),
    // Invariant 2 in the schema: a request cannot be marked as having switched to live unless it
    // was approved, re-audited and snapshotted — whatever code writes the row.
    check(
      'mode_change_requests_live_switch_complete',
      sql`${t.status} <> 'switched' or ${t.toMode} <> 'live' or (${t.approvedAt} is not null and ${t.switchAuditRunId} is not null and ${t.snapshotRef} is not null and ${t.slackTs} is not null and ${t.requesterSource} = 'slack')`,
    ),
    check('mode_change_requests_decided', sql`${t.status} in ('requested', 'approved') or ${t.decidedAt} is not null`),
    // At most one open request: two operators cannot race two requests to quorum.
    uniqueIndex('mode_change_requests_one_open').on(t.toMode).where(sql`${t.status} in ('requested', 'approved')`),
    uniqueIndex('mode_change_requests_message').on(t.slackChannel, t.slackTs),
    index('mode_change_requests_created_at').on(t.createdAt),
  ],
);

export const modeChangeVotes = pgTable(
  'mode_change_votes',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    requestId: bigint('request_id', { mode: 'number' }).notNull().references(() => modeChangeRequests.id),
    slackUser: text('slack_user').notNull(),
    kind: text('kind', { enum: ['approve', 'reject'] }).notNull(),
    addedAt: at('added_at').notNull(),
    /** Set when the reaction was removed; cleared if the approver reacts again. */
    withdrawnAt: at('withdrawn_at'),
    /** Slack's event_ts of the last reaction event applied: an older, late-delivered event is ignored. */
    lastEventTs: text('last_event_ts'),
  },
  (t) => [
    // One user counts once however often Slack delivers the reaction.
    uniqueIndex('mode_change_votes_once').on(t.requestId, t.slackUser, t.kind),
  ],
);

export const MODE_EVENT_KINDS = [
  'requested', 'posted', 'vote_added', 'vote_withdrawn', 'vote_ignored', 'approved', 'switched',
  'rejected', 'expired', 'failed', 'withdrawn',
  // The quorum could not be confirmed: Slack's reactions on the request message could not be read.
  'quorum_unconfirmed',
  // A closing whose announcement is pending (its event's details.announce: expired, failed, rejected, withdrawn, switched): claimed by the
  // process announcing it (`announcing`, details.attempt), then `announced` (delivered, or found already
  // in the thread after a takeover), `announce_pending` (that attempt failed: details.error, retryAt) or
  // `announce_failed` (Slack refused it for good: details.error; not tried again)
  // (services/mode/announce-pending.ts).
  'announcing', 'announced', 'announce_pending', 'announce_failed',
  // An announcement pending longer than MODE_ANNOUNCE_ALERT_AFTER was raised as an alert (once; details:
  // pendingSince, fingerprint), and that alert was resolved once the announcement was delivered.
  'announce_overdue', 'announce_overdue_resolved',
] as const;
export type ModeEventKind = (typeof MODE_EVENT_KINDS)[number];

/** Append-only: every reaction (counted or ignored, and why) and every transition of a request. */
export const modeChangeEvents = pgTable(
  'mode_change_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    requestId: bigint('request_id', { mode: 'number' }).notNull().references(() => modeChangeRequests.id),
    at: at('at').notNull(),
    kind: text('kind', { enum: MODE_EVENT_KINDS }).notNull(),
    actor: text('actor').notNull(),
    details: jsonb('details').$type<Record<string, unknown>>().notNull().default({}),
  },
  (t) => [index('mode_change_events_request').on(t.requestId, t.id)],
);

export type ModeChangeRequest = typeof modeChangeRequests.$inferSelect;
export type ModeChangeVote = typeof modeChangeVotes.$inferSelect;
export type ModeChangeEvent = typeof modeChangeEvents.$inferSelect;
