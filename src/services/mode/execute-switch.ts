// Owns the transition window of an approved live request: re-run the go-live audit (it must pass
// now, not only when the request was opened), take the snapshot, flip bot_state to live in the same
// transaction that marks the request switched. No restart: the engine reads bot_state every tick and
// picks the Kraken adapter from the provider. Nothing is paused around the flip, because no scheduled
// job places orders: the engine re-reads bot_state under the order lock before every order, so each
// order is placed in the mode before the flip or in the one after it; a kill (the alert escalation's
// auto-kill among them) takes the bot_state row lock this transaction holds, so it lands before the
// flip (refused below: halted) or after it (docs/checklist-coverage.md, §6).
// The approvals are read from Slack again after the audit and the snapshot (seconds, under the load
// that loses reaction events): the flip counts only recorded, standing approvals whose reaction is on
// the request message in that read. Fewer than the quorum, or no answer from Slack, fails the request
// (an approved request cannot go back to pending), and its thread says to request live again. A
// refusal for want of approvals on the message also withdraws, in the same transaction, each recorded
// approval the read no longer shows, so the record never keeps it as standing.
import type { Db } from '../../db/client.js';
import type { ModeChangeRequest } from '../../db/schema/index.js';
import { lockBotState } from '../../db/queries/bot-state-row.js';
import { AppError } from '../../errors.js';
import { getBotState, updateBotState } from '../bot-state.js';
import type { AnnounceDeps } from './announce.js';
import { ANNOUNCE_PENDING, announceNow } from './announce-pending.js';
import { readEngineVerdict } from './engine-verdict.js';
import type { LiveSwitchPortDeps, LiveSwitchPorts, ReactionsRead, SnapshotRef } from './ports.js';
import { liveApprovers } from './live-approvers.js';
import { withdrawApprovalsNotOnMessage } from './withdraw-unseen-approvals.js';
import { APPROVALS_NEEDED, normaliseEmoji, usersWithEmoji } from './records.js';
import { describeSetAside, paperPositionsSetAside } from './paper-set-aside.js';
import { databaseNow } from '../../db/queries/database-clock.js';
import { appendEvent, lockRequest, messageOfRequest, standingApprovals, transition } from '../../db/queries/mode-change.js';

export type SwitchOutcome =
  | { switched: true; request: ModeChangeRequest; approvals: Array<{ user: string; at: Date }> }
  | { switched: false; status: string; reason: string };

const ACTOR = 'system:live-switch';
const REQUEST_AGAIN = 'Not switched: to go live, request it again with /mode live and approve the new request.';

/** What the switch needs: what its gate and snapshot are handed, and the announcer's alerts. */
export type LiveSwitchDeps = LiveSwitchPortDeps & AnnounceDeps;

/** Marks an approved request failed (only if it is still approved) and says why, at the database's now(). */
async function failRequest(db: Db, id: number, reason: string, details: Record<string, unknown> = {}): Promise<ModeChangeRequest | undefined> {
  const now = await databaseNow(db);
  const failed = await transition(db, id, ['approved'], 'failed', { decidedAt: now, decidedBy: ACTOR, outcome: reason });
  if (failed) await appendEvent(db, { requestId: id, at: now, kind: 'failed', actor: ACTOR, details: { reason, ...details, ...ANNOUNCE_PENDING } });
  return failed;
}

async function failOutside(ctx: LiveSwitchDeps, ports: LiveSwitchPorts, id: number, reason: string, details: Record<string, unknown> = {}): Promise<SwitchOutcome> {
  const failed = await ctx.db.transaction(async (tx) => {
    await lockRequest(tx, { id });
    return failRequest(tx, id, reason, details);
  });
  ctx.logger.warn({ requestId: id, reason }, 'live switch failed');
  if (failed) await announceNow(ctx, ports, [failed]);
  return { switched: false, status: failed?.status ?? 'unknown', reason };
}

export async function executeLiveSwitch(ctx: LiveSwitchDeps, ports: LiveSwitchPorts, requestId: number): Promise<SwitchOutcome> {
  let audit;
  try {
    audit = await ports.gate(ctx, { actor: { id: ACTOR, source: 'system' }, purpose: 'switch' });
  } catch (err) {
    ctx.logger.error({ err, requestId }, 'the go-live audit could not run at the switch');
    return failOutside(ctx, ports, requestId, `the go-live audit could not run at the switch: ${err instanceof AppError ? err.message : 'internal error'}`);
  }
  if (!audit.passed) {
    const failing = audit.checks.filter((c) => c.status === 'fail').map((c) => `${c.name}${c.fix ? ` (${c.fix})` : ''}`);
    return failOutside(ctx, ports, requestId, `the go-live audit failed at the switch: ${audit.summary}${failing.length ? ` — ${failing.join('; ')}` : ''}`, {
      auditRunId: audit.auditRunId,
    });
  }
  if (audit.auditRunId === null) return failOutside(ctx, ports, requestId, 'the go-live audit reported a pass but stored no run, so the sign-off could not name it');

  let snapshot: SnapshotRef;
  try {
    snapshot = await ports.snapshot(ctx, { reason: `live-switch #${requestId}` });
  } catch (err) {
    ctx.logger.error({ err, requestId }, 'the pre-switch snapshot failed');
    return failOutside(ctx, ports, requestId, `the snapshot before the switch failed: ${err instanceof AppError ? err.message : (err as Error).message}`);
  }

  // Outside any transaction: a slow Slack holds no lock. Never throws (ports.ts). As at the quorum
  // (confirm-quorum.ts), the read judges only approvals recorded before it began: one recorded while
  // Slack was being read may not be in the answer, and is neither counted nor withdrawn by it.
  const message = await messageOfRequest(ctx.db, requestId);
  const readFrom = await databaseNow(ctx.db);
  const read: ReactionsRead = message
    ? await ports.reactions.read(message)
    : { kind: 'unread', why: 'the request has no Slack message to read its reactions from' };

  let closed: ModeChangeRequest | undefined;
  const outcome = await ctx.db.transaction(async (tx): Promise<SwitchOutcome> => {
    const request = await lockRequest(tx, { id: requestId });
    if (!request || request.status !== 'approved') {
      return { switched: false, status: request?.status ?? 'missing', reason: `the request became ${request?.status ?? 'missing'} during the transition` };
    }
    const refuse = async (reason: string, details: Record<string, unknown> = {}): Promise<SwitchOutcome> => {
      closed = await failRequest(tx, requestId, reason, details);
      return { switched: false, status: 'failed', reason };
    };
    const { approvers } = await liveApprovers(tx, ctx.config);
    const recorded = await standingApprovals(tx, request, approvers);
    if (recorded.length < APPROVALS_NEEDED) return refuse(`an approval was withdrawn during the transition (${recorded.length} of ${APPROVALS_NEEDED} stand)`);
    if (read.kind === 'unread') {
      return refuse(`could not re-confirm the approvals at the switch: Slack's reactions on the request could not be read (${read.why}). ${REQUEST_AGAIN}`, { seenBy: 'reactions.get', why: read.why });
    }
    // A rejection on the message, by the requester or an approver, stops the switch as its event would
    // have closed the request (confirm-quorum.ts): one added during the audit, its event lost, included.
    const rejecting = usersWithEmoji(read.reactions, ctx.config.REJECTION_EMOJI);
    const rejecters = [...rejecting].filter((user) => user === request.requester || approvers.includes(user));
    if (rejecters.length > 0) {
      return refuse(
        `a rejection is on the request (read at the switch): :${normaliseEmoji(ctx.config.REJECTION_EMOJI)}: by ${rejecters.join(', ')}. ${REQUEST_AGAIN}`,
        { seenBy: 'reactions.get', rejectedBy: rejecters },
      );
    }
    const onMessage = usersWithEmoji(read.reactions, ctx.config.APPROVAL_EMOJI);
    const judged = recorded.filter((v) => v.addedAt.getTime() <= readFrom.getTime());
    const standing = judged.filter((v) => onMessage.has(v.slackUser));
    const goneVotes = judged.filter((v) => !onMessage.has(v.slackUser));
    const gone = goneVotes.map((v) => v.slackUser);
    if (standing.length < APPROVALS_NEEDED) {
      // The record says what Slack shows: an approval no longer on the message is withdrawn, with the failure.
      await withdrawApprovalsNotOnMessage(tx, ctx.config, { requestId, gone: goneVotes, judged: judged.length, at: await databaseNow(tx) });
      return refuse(
        `an approval is no longer on the request (read at the switch): ${gone.join(', ')} recorded but without :${normaliseEmoji(ctx.config.APPROVAL_EMOJI)}: on the message, ${standing.length} of ${APPROVALS_NEEDED} on it. ${REQUEST_AGAIN}`,
        { seenBy: 'reactions.get', notOnMessage: gone },
      );
    }
    if (!ctx.config.IS_LIVE) return refuse('this process is not armed (IS_LIVE is not true)');
    await getBotState(tx);
    const state = await lockBotState(tx);
    if (state?.halted) return refuse(`the bot was halted during the transition${state.haltedReason ? ` (${state.haltedReason})` : ''}`);
    // The engine that would trade live, read once: running, armed in its own process, on Kraken's feed.
    // This process's IS_LIVE (above) arms only itself: a web replica running the switch trades nothing.
    // Held until the flip commits: a takeover or release by an engine restarted unarmed waits for it.
    const engine = await readEngineVerdict(ctx, tx, { held: true });
    // The request's outcome is all its Slack thread is told: what to do goes with why.
    if (!engine.ok) return refuse(`${engine.reason}. ${engine.hint}`);

    const now = await databaseNow(tx);
    const approvals = standing.slice(0, APPROVALS_NEEDED).map((v) => ({ user: v.slackUser, at: v.addedAt }));
    const setAside = await paperPositionsSetAside(tx);
    const setAsideNote = describeSetAside(setAside);
    await updateBotState(tx, ctx.clock, { mode: 'live' });
    const switched = await transition(tx, requestId, ['approved'], 'switched', {
      switchAuditRunId: audit.auditRunId, switchAuditSummary: audit.summary, snapshotRef: snapshot.path, snapshotId: snapshot.id,
      decidedAt: now, decidedBy: approvals.map((a) => a.user).join(','),
      outcome: `switched to live; approved by ${approvals.map((a) => `${a.user} at ${a.at.toISOString()}`).join(' and ')}${setAsideNote ? `. ${setAsideNote}` : ''}`,
    });
    await appendEvent(tx, {
      requestId, at: now, kind: 'switched', actor: ACTOR,
      details: { approvals: approvals.map((a) => ({ user: a.user, at: a.at.toISOString() })), auditRunId: audit.auditRunId, snapshot, paperSetAside: setAside, ...ANNOUNCE_PENDING },
    });
    return { switched: true, request: switched!, approvals };
  });

  if (outcome.switched) {
    ctx.logger.warn({ requestId, approvals: outcome.approvals }, 'switched to LIVE trading');
    await announceNow(ctx, ports, [outcome.request]);
  } else if (closed) {
    await announceNow(ctx, ports, [closed]);
  }
  return outcome;
}
