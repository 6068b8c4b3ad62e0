// The live switch's approvals: reaction_added / reaction_removed on a change-request message, as
// the `mode vote` command (commands/mode-vote.ts decides who may vote and runCommand trails it).
// Only vote emoji on a request message become a command; who reacted is checked with users.info
// (bots and apps never count, and an unverifiable user does not count either: fail closed).
// What the vote did goes in the request's thread: a count, approvals withdrawn because Slack no
// longer shows their reaction, a quorum that could not be confirmed because Slack could not be read.
import { isModeVote, modeVoteCommand } from '../../../commands/mode-vote.js';
import { isAppError } from '../../errors.js';
import { renderVoteFeedback, renderVoteRefused } from '../views/mode-change.js';
import type { EventRequest, EventRow } from './types.js';

interface ReactionEvent {
  user?: string;
  reaction?: string;
  item?: { type?: string; channel?: string; ts?: string };
  event_ts?: string;
}

/** true = a bot or app, false = a person, 'unknown' = Slack could not tell us. */
async function reactorIsBot(req: EventRequest, user: string): Promise<boolean | 'unknown'> {
  try {
    const res = await req.client.users.info({ user });
    const u = res.user as { is_bot?: boolean; is_app_user?: boolean; deleted?: boolean; id?: string } | undefined;
    if (!u || u.id !== user) return 'unknown';
    return Boolean(u.is_bot || u.is_app_user || u.deleted);
  } catch (err) {
    req.logger.warn({ err, user }, 'users.info failed: the reaction will not count');
    return 'unknown';
  }
}

async function handleReaction(req: EventRequest, added: boolean): Promise<void> {
  const e = req.event as ReactionEvent;
  const { user, reaction, item } = e;
  if (!user || !reaction || item?.type !== 'message' || !item.channel || !item.ts) return;
  if (!(await isModeVote(req.ctx, { channel: item.channel, ts: item.ts, emoji: reaction }))) return;

  const isBot = await reactorIsBot(req, user);
  let result;
  try {
    result = await req.run(modeVoteCommand, {
      channel: item.channel, messageTs: item.ts, userIsBot: isBot, emoji: reaction, added,
      eventTs: e.event_ts ?? `${Math.floor(req.ctx.clock.now().getTime() / 1000)}.000000`,
      ...(req.body.event_id ? { eventId: req.body.event_id } : {}),
    });
  } catch (err) {
    if (!isAppError(err, 'forbidden')) throw err;
    req.logger.info({ user, reaction, added }, 'reaction on a change request refused');
    if (isBot !== true) await req.reply.ephemeral(renderVoteRefused(err.message));
    return;
  }
  const { outcome } = result;
  req.logger.info({ outcome: outcome.kind, user, reaction, added }, 'reaction on a change request');
  if (isBot === true) return;
  const feedback = renderVoteFeedback(outcome, user, result.approvalsNeeded);
  if (!feedback) return;
  if (outcome.kind === 'ignored') await req.reply.ephemeral(feedback);
  else await req.reply.post(item.channel, feedback, { threadTs: item.ts });
}

export const modeReactionRows: EventRow[] = [
  { event: 'reaction_added', handle: (req) => handleReaction(req, true) },
  { event: 'reaction_removed', handle: (req) => handleReaction(req, false) },
];
