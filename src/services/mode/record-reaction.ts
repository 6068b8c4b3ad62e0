// Owns what a reaction on a change-request message means. Every decision runs in one transaction
// holding the request row FOR UPDATE, so two approvals delivered at the same moment (or to two
// replicas) are applied one after the other, and only the one that moves the request from
// `requested` to `approved` (a conditional update) goes on to switch. Its moments are the database's
// now() in that transaction: expiry is judged on the clock expires_at was written on, whatever clock
// the replica that got the reaction keeps, and the votes and decisions are stamped on it too.
// An approval that would complete the quorum is not acted on from the record alone: the request
// message's reactions are read from Slack first (confirm-quorum.ts), and only approvals on it now count.
import type { ModeChangeRequest } from '../../db/schema/index.js';
import { executeLiveSwitch, type LiveSwitchDeps, type SwitchOutcome } from './execute-switch.js';
import { ANNOUNCE_PENDING, announceNow } from './announce-pending.js';
import type { LiveSwitchPorts } from './ports.js';
import { liveApprovers } from './live-approvers.js';
import { APPROVALS_NEEDED, compareSlackTs, normaliseEmoji } from './records.js';
import { confirmQuorum } from './confirm-quorum.js';
import { expireIfDue } from './expire-requests.js';
import { databaseNow } from '../../db/queries/database-clock.js';
import { appendEvent, findVote, lockRequest, standingApprovals, transition, upsertVote, withdrawVote } from '../../db/queries/mode-change.js';

export interface ReactionInput {
  channel: string;
  /** ts of the message reacted to. */
  messageTs: string;
  user: string;
  /** Decided by the transport (Slack's users.info); 'unknown' (the lookup failed) never counts. */
  userIsBot: boolean | 'unknown';
  emoji: string;
  added: boolean;
  /** Slack's event_ts: orders add/remove pairs even when a retry arrives late. */
  eventTs: string;
  eventId?: string | undefined;
}

export type ReactionOutcome =
  | { kind: 'not_a_request' }
  | { kind: 'not_a_vote' }
  | { kind: 'ignored'; requestId: number; reason: string }
  /** `gone`: recorded approvals withdrawn because Slack no longer shows their reaction on the message. */
  | { kind: 'counted'; requestId: number; approvals: number; gone?: string[]; already?: boolean }
  | { kind: 'withdrawn'; requestId: number; approvals: number }
  | { kind: 'rejected'; requestId: number }
  | { kind: 'withdrawn_request'; requestId: number }
  | { kind: 'expired'; requestId: number }
  /** The recorded approvals would make the quorum, but Slack's reactions could not be read: still pending. */
  | { kind: 'unconfirmed'; requestId: number; approvals: number; why: string }
  | { kind: 'quorum'; requestId: number; switch: SwitchOutcome; gone?: string[] };

export { normaliseEmoji };

type Decision = Exclude<ReactionOutcome, { kind: 'quorum' }> | { kind: 'to_confirm'; requestId: number; trigger: Record<string, unknown> };

export async function recordReaction(ctx: LiveSwitchDeps, ports: LiveSwitchPorts, input: ReactionInput): Promise<ReactionOutcome> {
  const emoji = normaliseEmoji(input.emoji);
  const vote = emoji === normaliseEmoji(ctx.config.APPROVAL_EMOJI) ? 'approve' : emoji === normaliseEmoji(ctx.config.REJECTION_EMOJI) ? 'reject' : null;
  if (vote === null) return { kind: 'not_a_vote' };

  let closed: ModeChangeRequest | undefined;
  const decision = await ctx.db.transaction(async (tx): Promise<Decision | { kind: 'not_a_request' }> => {
    const request = await lockRequest(tx, { channel: input.channel, ts: input.messageTs });
    if (!request) return { kind: 'not_a_request' };
    const now = await databaseNow(tx);
    const base = { user: input.user, emoji, added: input.added, eventId: input.eventId ?? null, eventTs: input.eventTs };
    const ignore = async (reason: string): Promise<Decision> => {
      await appendEvent(tx, { requestId: request.id, at: now, kind: 'vote_ignored', actor: input.user, details: { ...base, reason } });
      return { kind: 'ignored', requestId: request.id, reason };
    };

    if (request.status !== 'requested' && request.status !== 'approved') return ignore(`the request is already ${request.status}`);
    if (request.status === 'requested' && now.getTime() >= request.expiresAt.getTime()) {
      closed = await expireIfDue(tx, request, now, { trigger: base, ...ANNOUNCE_PENDING });
      await ignore('the request has expired');
      return { kind: 'expired', requestId: request.id };
    }
    if (input.userIsBot === 'unknown') return ignore('Slack could not confirm the reacting user is a person (users.info failed)');
    if (input.userIsBot) return ignore('bots never count');
    if (input.user === request.requester) {
      if (vote === 'reject' && input.added) {
        closed = await transition(tx, request.id, ['requested', 'approved'], 'withdrawn', { decidedAt: now, decidedBy: input.user, outcome: 'withdrawn by its requester' });
        if (closed) await appendEvent(tx, { requestId: request.id, at: now, kind: 'withdrawn', actor: input.user, details: { ...base, ...ANNOUNCE_PENDING } });
        return { kind: 'withdrawn_request', requestId: request.id };
      }
      return ignore('the requester never counts');
    }
    // The approvers the audit judged (the engine's recorded SLACK_APPROVERS), not this process's.
    const eligible = await liveApprovers(tx, ctx.config);
    if (!eligible.approvers.includes(input.user)) {
      return ignore(eligible.ignored === null ? 'not an approver (SLACK_APPROVERS)' : `not an approver (${eligible.source}; this process's own SLACK_APPROVERS are not used)`);
    }

    const existing = await findVote(tx, { requestId: request.id, user: input.user, kind: vote });
    if (existing?.lastEventTs && compareSlackTs(input.eventTs, existing.lastEventTs) <= 0) {
      return ignore('a repeated or out-of-order delivery of a reaction already applied');
    }

    if (vote === 'reject') {
      if (!input.added) return ignore('a rejection is final; removing the reaction does not reopen the request');
      await upsertVote(tx, { requestId: request.id, user: input.user, kind: 'reject', at: now, eventTs: input.eventTs });
      closed = await transition(tx, request.id, ['requested', 'approved'], 'rejected', { decidedAt: now, decidedBy: input.user, outcome: `rejected by ${input.user}` });
      if (closed) await appendEvent(tx, { requestId: request.id, at: now, kind: 'rejected', actor: input.user, details: { ...base, ...ANNOUNCE_PENDING } });
      return { kind: 'rejected', requestId: request.id };
    }

    if (!input.added) {
      if (!existing || existing.withdrawnAt) return ignore('no standing approval to withdraw');
      await withdrawVote(tx, { id: existing.id, at: now, eventTs: input.eventTs });
      const standing = await standingApprovals(tx, request, eligible.approvers);
      await appendEvent(tx, { requestId: request.id, at: now, kind: 'vote_withdrawn', actor: input.user, details: { ...base, approvals: standing.length } });
      return { kind: 'withdrawn', requestId: request.id, approvals: standing.length };
    }

    await upsertVote(tx, { requestId: request.id, user: input.user, kind: 'approve', at: now, eventTs: input.eventTs });
    const standing = await standingApprovals(tx, request, eligible.approvers);
    await appendEvent(tx, { requestId: request.id, at: now, kind: 'vote_added', actor: input.user, details: { ...base, approvals: standing.length } });
    // The record would make the quorum: Slack says whether it still does (below, outside this transaction).
    if (standing.length >= APPROVALS_NEEDED && request.status === 'requested') return { kind: 'to_confirm', requestId: request.id, trigger: base };
    // A second approval reaction from one approver (another approval emoji, a re-add whose removal was lost) adds nothing.
    const already = existing !== undefined && !existing.withdrawnAt;
    return { kind: 'counted', requestId: request.id, approvals: standing.length, ...(already ? { already } : {}) };
  });

  if (closed) await announceNow(ctx, ports, [closed]);
  if (decision.kind !== 'to_confirm') return decision;
  const check = await confirmQuorum(ctx, ports, { requestId: decision.requestId, channel: input.channel, ts: input.messageTs, trigger: decision.trigger });
  if (check.kind === 'closed') {
    await announceNow(ctx, ports, [check.request]);
    const kind = check.request.status === 'withdrawn' ? 'withdrawn_request' : check.request.status === 'expired' ? 'expired' : 'rejected';
    return { kind, requestId: check.requestId };
  }
  if (check.kind !== 'approved') return check;
  ctx.logger.info({ requestId: check.requestId, approvers: check.approvers }, 'live change request reached quorum (its reactions read from Slack); switching');
  return { kind: 'quorum', requestId: check.requestId, switch: await executeLiveSwitch(ctx, ports, check.requestId), gone: check.gone };
}
