// Owns withdrawing, in the record, the approvals a read of the request message from Slack no longer
// shows (their removal event never reached the bot): at the quorum (confirm-quorum.ts) and at a flip
// refused for want of approvals on the message (execute-switch.ts), so the record never keeps as
// standing an approval Slack does not show. Only approvals recorded before the read are passed here.
import type { Db } from '../../db/client.js';
import type { ModeChangeVote } from '../../db/schema/index.js';
import { appendEvent, withdrawVoteUnseen } from '../../db/queries/mode-change.js';
import { normaliseEmoji } from './records.js';

/**
 * Marks each of `gone` withdrawn at `at` and says why in the trail, in the caller's transaction.
 * `judged` is how many recorded approvals the read judged; the trail counts down from it.
 */
export async function withdrawApprovalsNotOnMessage(
  tx: Db,
  config: { APPROVAL_EMOJI: string },
  input: { requestId: number; gone: readonly ModeChangeVote[]; judged: number; at: Date },
): Promise<void> {
  for (const [i, vote] of input.gone.entries()) {
    await withdrawVoteUnseen(tx, { id: vote.id, at: input.at });
    await appendEvent(tx, {
      requestId: input.requestId, at: input.at, kind: 'vote_withdrawn', actor: vote.slackUser,
      details: {
        user: vote.slackUser, emoji: normaliseEmoji(config.APPROVAL_EMOJI), added: false, seenBy: 'reactions.get',
        reason: 'the approval reaction is no longer on the request message (its removal event never reached the bot)',
        approvals: input.judged - i - 1,
      },
    });
  }
}
