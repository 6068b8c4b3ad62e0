// Owns the narrow ports the live switch depends on: the go-live audit gate, the pre-switch
// snapshot and the announcer that posts to Slack. The real implementations are wired in
// src/app/build-context.ts; tests pass their own. A port that is not installed fails closed:
// nothing here may ever answer "passed" without an audit having run.
import type { Clock } from '../../clock.js';
import type { Config } from '../../config/env.js';
import type { Db } from '../../db/client.js';
import type { Actor } from '../../domain/actor.js';
import type { ExchangeProvider } from '../../exchange/provider.js';
import type { Logger } from '../../logger.js';
import type { RecordedCheck } from '../../db/schema/index.js';
import { AppError } from '../../errors.js';

/** What the gate and the snapshot are handed: the go-live audit reads all of it, the snapshot all but the exchanges. */
export interface LiveSwitchPortDeps {
  config: Config;
  db: Db;
  clock: Clock;
  logger: Logger;
  exchanges: ExchangeProvider;
}

export interface GoLiveAuditResult {
  passed: boolean;
  /** One line, e.g. "12 pass, 1 warn, 0 fail". */
  summary: string;
  /** The stored audit_runs row. A passing result without one does not open the gate. */
  auditRunId: number | null;
  /** Every check; the paper→live criteria are among them (with value and threshold). */
  checks: RecordedCheck[];
}

export type GoLiveGate = (
  ctx: LiveSwitchPortDeps,
  opts: { actor: Actor; purpose: 'request' | 'switch' },
) => Promise<GoLiveAuditResult>;

export interface SnapshotRef {
  /** Directory (or file) under BACKUP_DIR holding the snapshot. */
  path: string;
  /** The snapshot's database record, when the backup service keeps one. */
  id: string | null;
}

export type Snapshotter = (ctx: LiveSwitchPortDeps, opts: { reason: string }) => Promise<SnapshotRef>;

/** What the Slack side needs to show a request or its outcome; plain data, no Slack types. */
export interface ModeAnnouncer {
  /** Whether requests can be posted at all (Slack configured and SLACK_OPS_CHANNEL set). */
  readonly available: boolean;
  /** The longest one of its calls to Slack can take (every try to its timeout): what a retried announcement's claim must outlast. */
  readonly callMaxMs?: number;
  /** Posts the change request in SLACK_OPS_CHANNEL; returns where, so reactions can be matched. */
  postRequest(view: RequestAnnouncement): Promise<{ channel: string; ts: string }>;
  /** Posts in the request's thread (outcome, rejection, expiry). */
  postInThread(channel: string, threadTs: string, view: OutcomeAnnouncement): Promise<void>;
  /** Posts a mode change that needed no approval (a rollback to paper). */
  postNotice(view: OutcomeAnnouncement): Promise<void>;
  /**
   * Posts a closed request's outcome in its thread as a retried announcement (announce-pending.ts):
   * the reply carries the request's marker, and with `checkSent` (an earlier attempt may have
   * delivered it without recording so) the thread is read first and a reply found there is answered
   * as delivered, not posted again. Throws when not delivered, saying whether a next try can help
   * (`permanent`) and how long Slack asked to wait (`retryAfterMs`); never waits a rate limit out
   * itself. `beforePost` runs after the look and before the post; what it throws is thrown as is,
   * nothing posted. Absent: postInThread is used, with no marker and no look.
   */
  announceInThread?(channel: string, threadTs: string, view: OutcomeAnnouncement, opts: AnnounceOpts): Promise<ThreadReply>;
}

/** How one attempt announces: whether it looks first, and the check it passes just before posting (it throws to stop the post). */
export interface AnnounceOpts {
  checkSent: boolean;
  beforePost?: () => Promise<void>;
}

/** Where a retried announcement is in its thread, and whether it was found there rather than posted now. */
export interface ThreadReply {
  ts: string;
  found: boolean;
}

export interface RequestAnnouncement {
  requestId: number;
  requester: string;
  reason: string | null;
  fromMode: 'paper' | 'live';
  toMode: 'paper' | 'live';
  audit: { passed: boolean; summary: string; auditRunId: number | null };
  checks: RecordedCheck[];
  approvers: string[];
  approvalsNeeded: number;
  approvalEmoji: string;
  rejectionEmoji: string;
  expiresAt: Date;
}

export interface OutcomeAnnouncement {
  requestId: number | null;
  status: 'switched' | 'rejected' | 'expired' | 'failed' | 'withdrawn' | 'approved';
  toMode: 'paper' | 'live';
  title: string;
  lines: string[];
  approvals?: Array<{ user: string; at: Date }>;
}

/** One emoji on a message and everyone whose reaction with it is there now. */
export interface MessageReaction {
  name: string;
  users: string[];
}

/** Slack's reactions on a message as it holds them now, or why they could not be read. */
export type ReactionsRead = { kind: 'read'; reactions: MessageReaction[] } | { kind: 'unread'; why: string };

/**
 * Reads a request message's reactions from Slack (reactions.get), so the quorum is judged on what is
 * on the message now, not on the reaction events that happened to be processed. Never throws:
 * whatever stops the read is an `unread` answer naming why, and an unread answer completes no quorum.
 */
export interface MessageReactions {
  read(where: { channel: string; ts: string }): Promise<ReactionsRead>;
}

export interface LiveSwitchPorts {
  gate: GoLiveGate;
  snapshot: Snapshotter;
  announcer: ModeAnnouncer;
  reactions: MessageReactions;
}

/** When Slack is not configured there is nowhere to collect approvals: live requests are refused. */
export const noSlackAnnouncer: ModeAnnouncer = {
  available: false,
  async postRequest() {
    throw new AppError('conflict', 'slack_not_configured', 'Slack is not configured, so no approver can sign a live request.', {
      hint: 'Set SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET (or SLACK_APP_TOKEN) and SLACK_OPS_CHANNEL, then run /mode live in Slack.',
    });
  },
  async postInThread() {},
  async postNotice() {},
};

/** When Slack is not configured no reaction can be read, so no quorum can be confirmed. */
export const noSlackReactions: MessageReactions = {
  async read() {
    return { kind: 'unread', why: 'Slack is not configured (SLACK_BOT_TOKEN), so the reactions on the request cannot be read' };
  },
};
