// `mode vote`: a ✅ or ❌ reaction on a live change request, as a command, so an approval passes the
// one door every other action does (permission, command_log) before the sign-off record decides
// what it counts for. Slack is the only way to vote: the reaction is the approver's signature.
// Who may vote: approvers (SLACK_APPROVERS), and the requester, whose ❌ withdraws the request.
// Everyone else is refused and trailed here; the record never sees them.
import { z } from 'zod';
import { normaliseEmoji, recordReaction, type ReactionOutcome } from '../src/services/mode/record-reaction.js';
import { APPROVALS_NEEDED } from '../src/services/mode/records.js';
import { requestForMessage } from '../src/db/queries/mode-change.js';
import type { AppContext } from '../src/app/context.js';
import { defineCommand } from './define.js';

export interface ModeVoteResult {
  ok: boolean;
  outcome: ReactionOutcome;
  approvalsNeeded: number;
}

/**
 * Which reactions are votes at all: a vote emoji on a change request's message. Every other
 * reaction in the workspace is chatter and never reaches the command (nor its trail).
 */
export async function isModeVote(ctx: Pick<AppContext, 'db' | 'config'>, where: { channel: string; ts: string; emoji: string }): Promise<boolean> {
  const r = normaliseEmoji(where.emoji);
  if (r !== normaliseEmoji(ctx.config.APPROVAL_EMOJI) && r !== normaliseEmoji(ctx.config.REJECTION_EMOJI)) return false;
  return (await requestForMessage(ctx.db, where)) !== undefined;
}

export const modeVoteCommand = defineCommand({
  name: 'mode vote',
  summary: 'approve (or reject) a live change request: a reaction on its Slack message (approvers; the requester may withdraw)',
  role: 'reader',
  args: z.object({
    channel: z.string().min(1),
    messageTs: z.string().min(1),
    emoji: z.string().min(1),
    added: z.boolean(),
    eventTs: z.string().min(1),
    eventId: z.string().optional(),
    /** Decided by the transport (Slack's users.info); 'unknown' never counts. */
    userIsBot: z.union([z.boolean(), z.literal('unknown')]),
  }).strict(),
  async allow(ctx, args) {
    if (ctx.actor.source !== 'slack' || ctx.config.SLACK_APPROVERS.includes(ctx.actor.id)) return { allowed: true };
    const request = await requestForMessage(ctx.db, { channel: args.channel, ts: args.messageTs });
    if (request && request.requester === ctx.actor.id) return { allowed: true };
    return { allowed: false, reason: 'Your reaction did not count: you are not an approver (SLACK_APPROVERS).' };
  },
  async run(ctx, args): Promise<ModeVoteResult> {
    const outcome = await recordReaction(ctx, ctx.liveSwitch, { ...args, user: ctx.actor.id });
    const ok = outcome.kind !== 'ignored' && outcome.kind !== 'unconfirmed' && !(outcome.kind === 'quorum' && !outcome.switch.switched);
    return { ok, outcome, approvalsNeeded: APPROVALS_NEEDED };
  },
});
