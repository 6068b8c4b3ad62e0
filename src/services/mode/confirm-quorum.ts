// Owns confirming a quorum against Slack before it is acted on. The recorded votes are the reaction
// events this bot happened to process; an event can be lost (a vote turned away by a full ack queue
// on every resend, a Socket Mode reconnect), so a withdrawn approval whose reaction_removed never
// arrived would still count. Before a request moves to `approved`, the request message's reactions
// are read from Slack (ports.reactions, outside any transaction: a slow Slack holds no lock), and the
// approvals that count are the recorded, standing, eligible ones whose approval reaction is on the
// message now. A recorded approval whose reaction is gone is withdrawn in the record. When Slack
// cannot be read the quorum is not complete: the request stays `requested`, and the next approval
// reads again. Never live on unread state. A rejection the same read shows (the rejection emoji by an
// eligible approver, or by the requester: a withdrawal) closes the request as its event would have
// (record-reaction.ts): a lost reaction_added for it never lets the request go live past it.
// The read judges only approvals recorded before it began (the database's now() just before it): one
// recorded while Slack was being read may not be in the answer, and is neither withdrawn nor counted
// here (its own reaction reads again). The read can take up to SLACK_API_TIMEOUT: a request that
// expired meanwhile is closed as expired, never approved.
import type { ModeChangeRequest } from '../../db/schema/index.js';
import type { LiveSwitchDeps } from './execute-switch.js';
import { ANNOUNCE_PENDING } from './announce-pending.js';
import type { LiveSwitchPorts, ReactionsRead } from './ports.js';
import { liveApprovers } from './live-approvers.js';
import { expireIfDue } from './expire-requests.js';
import { APPROVALS_NEEDED, normaliseEmoji } from './records.js';
import { databaseNow } from '../../db/queries/database-clock.js';
import { appendEvent, lockRequest, standingApprovals, transition } from '../../db/queries/mode-change.js';
import { withdrawApprovalsNotOnMessage } from './withdraw-unseen-approvals.js';

export type QuorumCheck =
  /** The request moved to `approved`: these approvals, each seen on the message, make the quorum. */
  | { kind: 'approved'; requestId: number; approvers: string[]; gone: string[] }
  /** Fewer than the quorum stand once Slack was read; `gone` were recorded but their reaction is not on the message. */
  | { kind: 'counted'; requestId: number; approvals: number; gone: string[] }
  /** Slack could not be read: the quorum is not complete, the request stays pending. */
  | { kind: 'unconfirmed'; requestId: number; approvals: number; why: string }
  /** The read showed a rejection (status `rejected`) or the requester's withdrawal (`withdrawn`), or it outlived the request (`expired`): the request is closed. */
  | { kind: 'closed'; requestId: number; request: ModeChangeRequest };

/** Who has `emoji` on the message now, by Slack's answer (any skin tone). */
function usersWith(read: Extract<ReactionsRead, { kind: 'read' }>, emoji: string): Set<string> {
  const name = normaliseEmoji(emoji);
  return new Set(read.reactions.filter((r) => normaliseEmoji(r.name) === name).flatMap((r) => r.users));
}

/**
 * Reads the request message's reactions and decides, in one transaction on the locked request, whether
 * the approvals recorded there still make a quorum. `trigger` is the reaction that led here (trail only).
 */
export async function confirmQuorum(
  ctx: LiveSwitchDeps,
  ports: LiveSwitchPorts,
  input: { requestId: number; channel: string; ts: string; trigger: Record<string, unknown> },
): Promise<QuorumCheck> {
  const readFrom = await databaseNow(ctx.db);
  const read = await ports.reactions.read({ channel: input.channel, ts: input.ts });
  return ctx.db.transaction(async (tx): Promise<QuorumCheck> => {
    const request = await lockRequest(tx, { id: input.requestId });
    const eligible = (await liveApprovers(tx, ctx.config)).approvers;
    // A reaction is on the message before its event is sent: an approval recorded before readFrom is in the read.
    const recorded = request ? (await standingApprovals(tx, request, eligible)).filter((v) => v.addedAt.getTime() <= readFrom.getTime()) : [];
    // Another reaction (here or on another replica) decided first, or time closed the request:
    // nothing to confirm, and nothing is withdrawn on a request no longer waiting.
    if (!request || request.status !== 'requested') return { kind: 'counted', requestId: input.requestId, approvals: recorded.length, gone: [] };
    const now = await databaseNow(tx);
    const expired = await expireIfDue(tx, request, now, { trigger: input.trigger, during: 'the quorum read', ...ANNOUNCE_PENDING });
    if (expired) return { kind: 'closed', requestId: request.id, request: expired };

    if (read.kind === 'unread') {
      ctx.logger.warn({ requestId: request.id, why: read.why }, 'quorum not confirmed: the request message\'s reactions could not be read');
      await appendEvent(tx, {
        requestId: request.id, at: now, kind: 'quorum_unconfirmed', actor: 'system:quorum',
        details: { why: read.why, recordedApprovals: recorded.map((v) => v.slackUser), trigger: input.trigger },
      });
      return { kind: 'unconfirmed', requestId: request.id, approvals: recorded.length, why: read.why };
    }

    // A rejection on the message is final, as its event would have made it (record-reaction.ts).
    const rejecting = usersWith(read, ctx.config.REJECTION_EMOJI);
    const rejection = { emoji: normaliseEmoji(ctx.config.REJECTION_EMOJI), added: true, seenBy: 'reactions.get' };
    if (rejecting.has(request.requester)) {
      const closed = await transition(tx, request.id, ['requested'], 'withdrawn', { decidedAt: now, decidedBy: request.requester, outcome: 'withdrawn by its requester' });
      if (closed) {
        await appendEvent(tx, { requestId: request.id, at: now, kind: 'withdrawn', actor: request.requester, details: { user: request.requester, ...rejection, ...ANNOUNCE_PENDING } });
        return { kind: 'closed', requestId: request.id, request: closed };
      }
    }
    const rejecter = eligible.find((user) => rejecting.has(user) && user !== request.requester);
    if (rejecter !== undefined) {
      const closed = await transition(tx, request.id, ['requested'], 'rejected', { decidedAt: now, decidedBy: rejecter, outcome: `rejected by ${rejecter}` });
      if (closed) {
        await appendEvent(tx, { requestId: request.id, at: now, kind: 'rejected', actor: rejecter, details: { user: rejecter, ...rejection, ...ANNOUNCE_PENDING } });
        return { kind: 'closed', requestId: request.id, request: closed };
      }
    }

    const onMessage = usersWith(read, ctx.config.APPROVAL_EMOJI);
    const standing = recorded.filter((v) => onMessage.has(v.slackUser));
    const gone = recorded.filter((v) => !onMessage.has(v.slackUser));
    await withdrawApprovalsNotOnMessage(tx, ctx.config, { requestId: request.id, gone, judged: recorded.length, at: now });
    const goneUsers = gone.map((v) => v.slackUser);
    if (standing.length < APPROVALS_NEEDED) return { kind: 'counted', requestId: request.id, approvals: standing.length, gone: goneUsers };

    const approved = await transition(tx, request.id, ['requested'], 'approved', { approvedAt: now });
    if (!approved) return { kind: 'counted', requestId: request.id, approvals: standing.length, gone: goneUsers };
    const approvers = standing.map((v) => v.slackUser);
    await appendEvent(tx, { requestId: request.id, at: now, kind: 'approved', actor: String(input.trigger.user ?? 'system:quorum'), details: { approvers, seenBy: 'reactions.get' } });
    return { kind: 'approved', requestId: request.id, approvers, gone: goneUsers };
  });
}
