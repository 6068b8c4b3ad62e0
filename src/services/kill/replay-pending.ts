// Writes the kills that DATA_DIR/kill-pending.json holds once the database answers again. Run at
// start (before the engine), by the halt watcher each poll while the file exists, and by
// self-heal. Idempotent: a kill id already written is simply dropped from the file. A kill that
// cancelled on Kraken itself without confirming zero open orders could write no follow-up then: it is
// written here with the halt (the cancel handed on to the bot with the key, the cancel item pending
// on it), before the entry is dropped, so a failure leaves the entry for the next replay — unless the
// incident's cancel item was ticked on a confirmation made after that kill: its cancel is done then.
import type { AlertSink } from '../../alerts/types.js';
import type { Config } from '../../config/env.js';
import { describeError, withDeadline } from './deadline.js';
import { readPendingKills, removePendingKills, UNREADABLE_PENDING_KILL, writtenByItsKill } from './pending-kill.js';
import { replayedKillTitle } from '../../domain/local-halt.js';
import { announceIncident, type AnnounceDeps } from './announce-incident.js';
import { checklistOf, persistKill } from './persist-kill.js';
import { followUpOnCancelItem } from './cancel-item-follow-up.js';
import type { WrittenFollowUp } from './follow-up-request.js';
import { latchHalt, type KillPorts } from './runtime.js';

export interface ReplayOutcome {
  written: string[];
  remaining: number;
  error?: string;
}

/** Writing saved kills: DATA_DIR, the database (and the thread it announces), this process's latch, the alert. */
export type ReplayDeps = AnnounceDeps & {
  config: Pick<Config, 'DATA_DIR' | 'KILL_DB_TIMEOUT' | 'ENGINE_LEASE_TTL'>;
  alerts: Pick<AlertSink, 'raise'>;
  kill: KillPorts;
};

/**
 * Kept short: it ends an alert title (300 characters at most, cut off at its end). The bot (host:pid,
 * an EC2 host name alone is some 50 characters) comes before the words that may be cut.
 */
function handedOnPhrase(followUp: WrittenFollowUp): string {
  return `Kraken not confirmed clear by the kill — request #${followUp.requestId} ${followUp.runningBot
    ? `goes on in the bot ${followUp.runningBot}, running with the Kraken key` : 'waits for a bot with the Kraken key to go on cancelling'}`;
}

/**
 * Whether the incident's cancel item was ticked after the saved kill was made (a later kill, or the
 * follow-up of one, confirmed zero open orders): the saved kill's cancel is then done, and handing it
 * on again would reopen a confirmed item and cancel for nothing.
 */
async function confirmedSince(ctx: ReplayDeps, incidentId: number, at: string): Promise<boolean> {
  const items = await withDeadline(checklistOf(ctx.db, incidentId), ctx.config.KILL_DB_TIMEOUT, 'the database');
  const item = items.find((i) => i.item === 'cancel_orders');
  return item?.state === 'done' && item.doneAt !== null && item.doneAt.getTime() > Date.parse(at);
}

export async function replayPendingKills(ctx: ReplayDeps): Promise<ReplayOutcome> {
  const pending = readPendingKills(ctx.config.DATA_DIR);
  if (pending.length === 0) return { written: [], remaining: 0 };
  // Whatever the database says, a saved kill keeps this process halted until it is written.
  latchHalt(ctx, pending[0]!.reason);
  const written: string[] = [];
  try {
    for (const kill of pending) {
      // A kill still running writes its own halt (and answers for it); the latch above is all it needs from here.
      if (writtenByItsKill(kill)) continue;
      const outcome = await withDeadline(
        persistKill(ctx.db, { killId: kill.killId, at: new Date(kill.at), actor: kill.actor, trigger: kill.trigger, reason: kill.reason, cancelReport: kill.cancelReport }),
        ctx.config.KILL_DB_TIMEOUT, 'the database');
      const followUp = kill.krakenFollowUp && !(await confirmedSince(ctx, outcome.incident.id, kill.at)) ? await followUpOnCancelItem(ctx, {
        incidentId: outcome.incident.id, killId: kill.killId, actor: kill.actor, reason: kill.reason, startedAt: Date.parse(kill.at),
        lead: 'Zero open orders on Kraken not confirmed by the kill, saved in DATA_DIR while the database did not take it',
        reopenedBy: `the saved kill ${kill.killId} of ${kill.at}`,
      }) : null;
      written.push(kill.killId);
      removePendingKills(ctx.config.DATA_DIR, [kill.killId]);
      ctx.logger.warn({ killId: kill.killId, incidentId: outcome.incident.id, ...(followUp ? { followUpRequest: followUp.requestId, who: followUp.who } : {}) },
        followUp ? "pending kill written to the database; its cancel, not confirmed on Kraken, is handed on as a follow-up request" : 'pending kill written to the database');
      {
        // The kill's own reply said "pending" and posted nothing: announce it now, even when a
        // stalled transaction of that kill landed late on its own (then the incident is its own).
        const poster = ctx.kill.incidentPoster;
        if (poster && outcome.incident.killId === kill.killId) {
          announceIncident(ctx, outcome.incident.id, poster).catch((err) => ctx.logger.error({ err }, 'could not post the incident thread'));
        }
        await withDeadline(ctx.alerts.raise({
          source: 'kill', severity: 'critical', title: `${replayedKillTitle(kill.database, kill.killId === UNREADABLE_PENDING_KILL)}${followUp ? `; ${handedOnPhrase(followUp)}` : ''}`,
          fingerprint: `kill:${outcome.incident.id}`,
          details: { killId: kill.killId, killedAt: kill.at, by: kill.actor, incidentId: outcome.incident.id, ...(kill.database ? { databaseError: kill.database.error } : {}),
            ...(followUp ? { confirmationContinues: `request #${followUp.requestId}` } : {}) },
        }), ctx.config.KILL_DB_TIMEOUT, 'the alert pipeline').catch((err) => ctx.logger.error({ err }, 'could not raise the replay alert'));
      }
    }
    return { written, remaining: pending.length - written.length };
  } catch (err) {
    return { written, remaining: pending.length - written.length, error: describeError(err) };
  }
}
