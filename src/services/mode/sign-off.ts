// Owns the shape of the sign-off record that `ctb mode history` prints and `/mode status` shows:
// request, requester, approvals and withdrawals with Slack user ids and timestamps, the message,
// the audit runs, the snapshot, the outcome and the full trail. Plain JSON, stable field names.
import type { Config } from '../../config/env.js';
import type { Db } from '../../db/client.js';
import type { RecordedCheck } from '../../db/schema/index.js';
import { getBotState, type Mode } from '../bot-state.js';
import { describeTradingState, type TradingStateInfo } from '../../domain/trading-state.js';
import type { EngineHolderView } from '../../domain/engine-holder.js';
import { readEngineHolder, shellView, type ShellView } from '../engine-lease/holder-view.js';
import { auditVerdict, type AuditVerdict } from '../mode-status.js';
import { engineMode, holderArmed, type EngineMode } from '../../domain/engine-mode.js';
import { loadGatePolicy } from '../audit/gate-policy.js';
import { latestAuditRunHeader } from '../audit/store.js';
import { standingOf, type ReconciliationStanding } from '../../domain/reconciliation-standing.js';
import { liveApprovers } from './live-approvers.js';
import { liveWithdrawnOf, type LiveWithdrawn } from '../../domain/live-withdrawal.js';
import { liveLeftOpenOf, livePositionText, type LiveLeftOpen } from '../../domain/live-left-open.js';
import { openTrades } from '../../db/queries/ledger-trades.js';
import { APPROVALS_NEEDED } from './records.js';
import { findOpenRequest, loadSignOffs, standingApprovals, type SignOff } from '../../db/queries/mode-change.js';

export interface SignOffRecord {
  id: number;
  status: string;
  fromMode: Mode;
  toMode: Mode;
  requester: string;
  requesterSource: string;
  reason: string | null;
  createdAt: string;
  expiresAt: string;
  message: { channel: string; ts: string } | null;
  audit: {
    atRequest: { runId: number | null; summary: string | null };
    atSwitch: { runId: number | null; summary: string | null };
  };
  criteria: RecordedCheck[];
  approvals: Array<{ user: string; addedAt: string; withdrawnAt: string | null }>;
  rejections: Array<{ user: string; addedAt: string }>;
  approvedAt: string | null;
  snapshot: { path: string; id: string | null } | null;
  outcome: string | null;
  decidedAt: string | null;
  decidedBy: string | null;
  trail: Array<{ at: string; kind: string; actor: string; details: Record<string, unknown> }>;
  /** What became of the announcement of its outcome in its thread (its trail's announce events); null when it had none (a rollback to paper, older records). */
  announcement: AnnouncementState | null;
}

/**
 * A closed request's announcement in its thread: pending (not tried yet, under way, or its last
 * attempt failed and is tried again at retryAt), delivered, or failed for good (Slack refused it).
 */
export interface AnnouncementState {
  state: 'pending' | 'delivered' | 'failed';
  attempts: number;
  at: string;
  /** The last failure's reason, while pending after one, or why it failed for good. */
  error: string | null;
  retryAt: string | null;
  /** Delivered: found in the thread (an earlier attempt had posted it), not posted by the recorded attempt. */
  found: boolean;
  /** When it was raised as an alert for being pending too long (MODE_ANNOUNCE_ALERT_AFTER), and when that alert was resolved; null when not. */
  overdueAlert: { at: string; resolvedAt: string | null } | null;
}

const ANNOUNCE_KINDS = new Set(['announcing', 'announced', 'announce_pending', 'announce_failed']);

export function announcementOf(events: SignOff['events']): AnnouncementState | null {
  const pending = events.some((e) => e.details['announce'] === 'pending');
  const steps = events.filter((e) => ANNOUNCE_KINDS.has(e.kind));
  if (!pending && steps.length === 0) return null;
  // Delivered is final: a failure recorded after it (an attempt that outlived its claim, by older code) does not undo it.
  const last = steps.find((e) => e.kind === 'announced') ?? steps.at(-1);
  const attempts = steps.filter((e) => e.kind === 'announcing').length;
  const text = (v: unknown) => (typeof v === 'string' ? v : null);
  const overdue = events.find((e) => e.kind === 'announce_overdue');
  const resolved = events.find((e) => e.kind === 'announce_overdue_resolved');
  const overdueAlert = overdue ? { at: overdue.at.toISOString(), resolvedAt: resolved ? resolved.at.toISOString() : null } : null;
  const base = { attempts, at: (last ?? events.at(-1)!).at.toISOString(), error: text(last?.details['error']), retryAt: null, found: false, overdueAlert };
  if (last?.kind === 'announced') return { ...base, state: 'delivered', found: last.details['found'] === true };
  if (last?.kind === 'announce_failed') return { ...base, state: 'failed' };
  return { ...base, state: 'pending', retryAt: last?.kind === 'announce_pending' ? text(last.details['retryAt']) : null };
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function toRecord({ request: r, votes, events }: SignOff): SignOffRecord {
  return {
    id: r.id, status: r.status, fromMode: r.fromMode, toMode: r.toMode, requester: r.requester, requesterSource: r.requesterSource,
    reason: r.reason, createdAt: r.createdAt.toISOString(), expiresAt: r.expiresAt.toISOString(),
    message: r.slackChannel && r.slackTs ? { channel: r.slackChannel, ts: r.slackTs } : null,
    audit: {
      atRequest: { runId: r.auditRunId, summary: r.auditSummary },
      atSwitch: { runId: r.switchAuditRunId, summary: r.switchAuditSummary },
    },
    criteria: r.criteria,
    approvals: votes.filter((v) => v.kind === 'approve').map((v) => ({ user: v.slackUser, addedAt: v.addedAt.toISOString(), withdrawnAt: iso(v.withdrawnAt) })),
    rejections: votes.filter((v) => v.kind === 'reject').map((v) => ({ user: v.slackUser, addedAt: v.addedAt.toISOString() })),
    approvedAt: iso(r.approvedAt),
    snapshot: r.snapshotRef ? { path: r.snapshotRef, id: r.snapshotId } : null,
    outcome: r.outcome, decidedAt: iso(r.decidedAt), decidedBy: r.decidedBy,
    trail: events.map((e) => ({ at: e.at.toISOString(), kind: e.kind, actor: e.actor, details: e.details })),
    announcement: announcementOf(events),
  };
}

/** What the sign-off views read: the requests and their trail, bot_state and the lease, and the approvers configured. */
export interface SignOffDeps {
  db: Db;
  config: Config;
}

export async function modeHistory(ctx: Pick<SignOffDeps, 'db'>, opts: { limit: number; id?: number | undefined }): Promise<SignOffRecord[]> {
  return (await loadSignOffs(ctx.db, { limit: opts.limit, ...(opts.id === undefined ? {} : { id: opts.id }) })).map(toRecord);
}

export interface ModeStatus {
  /**
   * What the engine trades in (the lease holder's arming, never this shell's): unknown while its lease
   * is stale and its holder was armed with the database saying live — it may resume LIVE trading if it wakes.
   */
  mode: EngineMode;
  storedMode: Mode;
  /** bot_state's version: a gate's reason the lease row names is true of one version only. */
  stateVersion: number;
  /**
   * Whether the engine lease's holder is armed (IS_LIVE=true in its process), running or stale — a
   * stale holder trades again if it wakes; false when no engine holds the lease. Before, false for a
   * stale holder whatever its arming: `engine.state` says whether it runs.
   */
  armed: boolean;
  engine: EngineHolderView;
  /** What this shell itself would do (its own IS_LIVE and keys). */
  shell: ShellView;
  reconciliation: ReconciliationStanding;
  halted: boolean;
  haltedReason: string | null;
  openRequest: (SignOffRecord & { standingApprovals: number; approvalsNeeded: number }) | null;
  lastChange: SignOffRecord | null;
  /** Why bot_state says paper when an engine took the lease unarmed and withdrew the live approval (the last change); null otherwise. */
  liveWithdrawn: LiveWithdrawn | null;
  /** While the engine trades paper: the open live positions Kraken holds, which it neither loads nor sells; null otherwise. */
  liveLeftOpen: LiveLeftOpen | null;
  approvers: string[];
  approvalEmoji: string;
  tradingState: TradingStateInfo;
  /** The latest go-live audit, as resume and /mode live would judge it under the gate policy stored now. */
  latestAudit: AuditVerdict | null;
}

export async function modeStatus(ctx: SignOffDeps): Promise<ModeStatus> {
  const state = await getBotState(ctx.db);
  const engine = await readEngineHolder(ctx);
  const open = await findOpenRequest(ctx.db);
  // Who may approve is the engine's recorded list (the audit's), not this process's SLACK_APPROVERS.
  const eligible = await liveApprovers(ctx.db, ctx.config);
  let openRequest: ModeStatus['openRequest'] = null;
  if (open) {
    const [signOff] = await loadSignOffs(ctx.db, { limit: 1, id: open.id });
    const standing = await standingApprovals(ctx.db, open, eligible.approvers);
    openRequest = { ...toRecord(signOff!), standingApprovals: standing.length, approvalsNeeded: APPROVALS_NEEDED };
  }
  const [last] = await loadSignOffs(ctx.db, { limit: 1, status: 'switched' });
  const [audit, policy] = await Promise.all([latestAuditRunHeader(ctx.db), loadGatePolicy(ctx.db)]);
  const mode = engineMode(state, engine);
  const live = mode === 'paper' ? await openTrades(ctx.db, 'live') : [];
  return {
    mode, storedMode: state.mode, stateVersion: state.version, armed: holderArmed(engine), engine, shell: shellView(ctx), reconciliation: standingOf(state), halted: state.halted,
    haltedReason: state.haltedReason, openRequest, lastChange: last ? toRecord(last) : null,
    liveWithdrawn: liveWithdrawnOf(state.mode, last?.request),
    liveLeftOpen: liveLeftOpenOf(live.length, live.slice(0, 5).map(livePositionText)),
    approvers: eligible.approvers, approvalEmoji: ctx.config.APPROVAL_EMOJI, tradingState: describeTradingState(state),
    latestAudit: auditVerdict(audit, policy),
  };
}
