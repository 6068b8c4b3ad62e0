// Writes the kills that DATA_DIR/kill-pending.json holds once the database answers again. Run at
// start (before the engine), by the halt watcher each poll while the file exists, and by
// self-heal. Idempotent: a kill id already written is simply dropped from the file (once announced:
// one another process announces is left alone here until its lease can be over). A kill that
// cancelled on Kraken itself without confirming zero open orders could write no follow-up then: it is
// written here with the halt (the cancel handed on to the bot with the key, the cancel item pending
// on it), before the entry is dropped, so a failure leaves the entry for the next replay — unless the
// incident is closed, the bot resumed, or its cancel item ticked on a confirmation made after that
// kill: its cancel is done then. A keyless kill saved so is cancelled on Kraken by the bot with the
// key that reads it (its halt listener, told of each new kill): what that cancel came to is written
// here too — not confirmed, the follow-up a kill writes, the cancel item reopened pending on it.
import { hostname } from 'node:os';
import type { AlertInput, AlertSink } from '../../alerts/types.js';
import type { Config } from '../../config/env.js';
import { describeError, withDeadline } from './deadline.js';
import { isUnreadablePendingKill, pendingKillPath, readPendingKills, removePendingKills, writtenByItsKill, type PendingKill } from './pending-kill.js';
import { replayedKillTitle } from '../../domain/local-halt.js';
import { announceIncident, type AnnounceDeps } from './announce-incident.js';
import { ANNOUNCE_LEASE_MS, checklistOf, persistKill } from './persist-kill.js';
import { followUpOnCancelItem } from './cancel-item-follow-up.js';
import type { WrittenFollowUp } from './follow-up-request.js';
import { latchHalt, type KillPorts } from './runtime.js';
import { getBotState } from '../bot-state.js';
import { killReplayAnnounced, markKillReplayAnnounced } from '../../db/queries/kill-incidents.js';
import { killTargetOf, sameKillTarget } from './kill-target.js';
import { describeServer, learnServerIdentity, sameServer, type ServerIdentity } from './database-identity.js';
import { haltCancelForKill, type HaltCancelKey } from './halt-cancel.js';
import type { VenueCancelReport } from './cancel-everywhere.js';

export interface ReplayOutcome {
  written: string[];
  remaining: number;
  /** Saved kills aimed at another database (kill-target.ts): left in the file for a process on it. */
  elsewhere?: Array<{ killId: string; target: string }>;
  error?: string;
}

/** Writing saved kills: DATA_DIR, the database (and the thread it announces), this process's latch, the alert. */
export type ReplayDeps = AnnounceDeps & {
  config: Pick<Config, 'DATA_DIR' | 'DATABASE_URL' | 'KILL_DB_TIMEOUT' | 'ENGINE_LEASE_TTL' | 'postgresEnv'>;
  alerts: Pick<AlertSink, 'raise' | 'raiseWithin'>;
  kill: KillPorts;
} & Partial<HaltCancelKey>;

/**
 * Kept short: it ends an alert title (300 characters at most, cut off at its end). The bot (host:pid,
 * an EC2 host name alone is some 50 characters) comes before the words that may be cut. `answered`:
 * the saved kill carries Kraken's answer. Without one (the kill stopped, or could not update its first
 * saved copy, which may have followed a confirmed cancel) nothing is known either way, and said so.
 */
function handedOnPhrase(followUp: WrittenFollowUp, answered: boolean | 'this bot'): string {
  const known = answered === 'this bot' ? "Kraken not confirmed clear by this bot's cancel for it" : answered ? 'Kraken not confirmed clear by the kill' : 'Kraken clear not known (the kill saved no answer)';
  return `${known} — request #${followUp.requestId} ${followUp.runningBot
    ? `goes on in the bot ${followUp.runningBot}, running with the Kraken key` : 'waits for a bot with the Kraken key to go on cancelling'}`;
}

/** Whether the saved kill carries its cancel's answer: the first entry a kill saves has none. */
const answeredBy = (kill: { cancelReport: Record<string, unknown> }): boolean => Array.isArray(kill.cancelReport['venues']);

/**
 * Whether the saved kill's cancel is no longer owed: its incident is closed or the bot was resumed
 * (both read on the database, whatever any clock says: an operator closed it, so its cancel was dealt
 * with), or the incident's cancel item was ticked after the saved kill was made (a later kill, or the
 * follow-up of one, confirmed zero open orders). Handing it on then would reopen a confirmed item,
 * cancel for nothing and page that Kraken is not confirmed clear. The tick's time is this process's
 * clock and the kill's the killing shell's: with skew between them that comparison alone can miss.
 */
async function cancelNoLongerOwed(ctx: ReplayDeps, incident: { id: number; status: string }, at: string): Promise<boolean> {
  if (incident.status !== 'open') return true;
  const [state, items] = await withDeadline(Promise.all([getBotState(ctx.db), checklistOf(ctx.db, incident.id)]), ctx.config.KILL_DB_TIMEOUT, 'the database');
  if (!state.halted) return true;
  const item = items.find((i) => i.item === 'cancel_orders');
  return item?.state === 'done' && item.doneAt !== null && item.doneAt.getTime() > Date.parse(at);
}

/**
 * The replay running in this process for a DATA_DIR, if any. The halt watcher's poll and the bot's own
 * self-heal both replay saved kills: run at once, both wrote the same kill (the second finding it
 * written) and both announced it — its alert raised twice and its incident thread posted twice. A
 * second caller while one runs gets that replay's outcome.
 */
const running = new Map<string, Promise<ReplayOutcome>>();

export function replayPendingKills(ctx: ReplayDeps): Promise<ReplayOutcome> {
  const key = pendingKillPath(ctx.config.DATA_DIR);
  const now = running.get(key);
  if (now) return now;
  const replay = replayOnce(ctx).finally(() => running.delete(key));
  running.set(key, replay);
  return replay;
}

/**
 * Saved kills this process wrote whose announcement another process holds (kill_replays), keyed by
 * file and kill id: left alone until that claim's lease can have run out — ANNOUNCE_LEASE_MS on this
 * process's clock from when it was found claimed, the claim being older — so the halt watcher neither
 * writes it again nor logs it at every poll meanwhile. The announcer drops the entry once its
 * announcement is stored; past the lease, this process takes the announcement over.
 */
const announcedElsewhereUntil = new Map<string, number>();

const announcerKey = (ctx: ReplayDeps, killId: string): string => `${pendingKillPath(ctx.config.DATA_DIR)}\0${killId}`;

/** Forgets the kills no longer in the file (dropped by their announcer, or discarded). */
function forgetDropped(ctx: ReplayDeps, pending: PendingKill[]): void {
  const file = `${pendingKillPath(ctx.config.DATA_DIR)}\0`;
  const here = new Set(pending.map((k) => announcerKey(ctx, k.killId)));
  for (const key of announcedElsewhereUntil.keys()) if (key.startsWith(file) && !here.has(key)) announcedElsewhereUntil.delete(key);
}

async function replayOnce(ctx: ReplayDeps): Promise<ReplayOutcome> {
  const pending = readPendingKills(ctx.config.DATA_DIR);
  forgetDropped(ctx, pending);
  if (pending.length === 0) return { written: [], remaining: 0 };
  // Whatever the database says, a saved kill keeps this process halted until it is written; each one
  // not seen before is a new kill here (a bot with the key cancels on Kraken for it). The oldest is
  // latched last: its reason is the one the paused jobs show.
  for (const kill of [...pending].reverse()) latchHalt(ctx, kill.reason, kill.killId);
  const written: string[] = [];
  const replayBy = `${hostname()}:${process.pid}`;
  const ours = killTargetOf(ctx.config);
  const elsewhere: Array<{ killId: string; target: string }> = [];
  try {
    for (const kill of pending) {
      // A kill still running writes its own halt (and answers for it); the latch above is all it needs from here.
      if (writtenByItsKill(kill)) continue;
      // Written here before; another process announces it: nothing to do until its lease can be over.
      if ((announcedElsewhereUntil.get(announcerKey(ctx, kill.killId)) ?? -Infinity) > ctx.clock.now().getTime()) {
        written.push(kill.killId);
        continue;
      }
      // Aimed at another database: left in the file for a process on it. This process stays halted
      // (latched above, its bot with the key cancelled on Kraken): a halt is never ignored.
      const here = await aimedHere(ctx, kill, ours);
      if (!here.yes) {
        tellOtherDatabase(ctx, kill, ours, here.server);
        elsewhere.push({ killId: kill.killId, target: kill.target ?? ours });
        continue;
      }
      const outcome = await withDeadline(
        persistKill(ctx.db, { killId: kill.killId, at: new Date(kill.at), actor: kill.actor, trigger: kill.trigger, reason: kill.reason, cancelReport: kill.cancelReport },
          { replayBy }),
        ctx.config.KILL_DB_TIMEOUT, 'the database');
      // A kill that did not cancel on Kraken itself (no key): this process's cancel for it, when it made one.
      const own = kill.krakenFollowUp ? undefined : await ownCancelFor(ctx, kill.killId);
      const owed = kill.krakenFollowUp || (own !== undefined && !own?.confirmed);
      const followUp = owed && !(await cancelNoLongerOwed(ctx, outcome.incident, kill.at)) ? await followUpOnCancelItem(ctx, {
        incidentId: outcome.incident.id, killId: kill.killId, actor: kill.actor, reason: kill.reason, startedAt: Date.parse(kill.at),
        lead: own !== undefined ? "Zero open orders on Kraken not confirmed by this bot's cancel for the kill saved in DATA_DIR while the database did not take it"
          : answeredBy(kill) ? 'Zero open orders on Kraken not confirmed by the kill, saved in DATA_DIR while the database did not take it'
          : 'Zero open orders on Kraken not known: the kill saved in DATA_DIR, while the database did not take it, no answer from Kraken',
        reopenedBy: `the saved kill ${kill.killId} of ${kill.at}`,
      }) : null;
      if (own?.confirmed) ctx.logger.warn({ killId: kill.killId, canceled: own.canceled }, "pending kill: this bot's cancel on Kraken for it confirmed zero open orders");
      // Announced by the replay that wrote it, or by one that took the announcement over (kill_replays):
      // another process replaying the same file at once (a shell's self-heal, the bot's halt watcher)
      // finds it written by that one and says nothing more than its log line.
      if (outcome.announces === true) {
        // The kill's own reply said "pending" and posted nothing: announce it now, even when a
        // stalled transaction of that kill landed late on its own (then the incident is its own).
        const poster = ctx.kill.incidentPoster;
        if (poster && outcome.incident.killId === kill.killId) {
          announceIncident(ctx, outcome.incident.id, poster).catch((err) => ctx.logger.error({ err }, 'could not post the incident thread'));
        }
        await announceReplay(ctx, kill.killId, replayBy, {
          source: 'kill', severity: 'critical', title: `${replayedKillTitle(kill.database, isUnreadablePendingKill(kill.killId))}${followUp ? `; ${handedOnPhrase(followUp, own !== undefined ? 'this bot' : answeredBy(kill))}` : ''}`,
          fingerprint: `kill:${outcome.incident.id}`,
          details: { killId: kill.killId, killedAt: kill.at, by: kill.actor, incidentId: outcome.incident.id, ...(kill.database ? { databaseError: kill.database.error } : {}),
            ...(followUp ? { confirmationContinues: `request #${followUp.requestId}` } : {}) },
        });
      }
      written.push(kill.killId);
      // The entry stays until the announcement is stored, by this replay or the one announcing it: a
      // failure or a death before that leaves it for a later replay, which takes the announcement over.
      const announced = await withDeadline(killReplayAnnounced(ctx.db, kill.killId), ctx.config.KILL_DB_TIMEOUT, 'the database');
      if (announced) await removePendingKills(ctx.config.DATA_DIR, [kill.killId]);
      else announcedElsewhereUntil.set(announcerKey(ctx, kill.killId), ctx.clock.now().getTime() + ANNOUNCE_LEASE_MS);
      ctx.logger.warn({ killId: kill.killId, incidentId: outcome.incident.id, ...(followUp ? { followUpRequest: followUp.requestId, who: followUp.who } : {}) },
        `${followUp ? "pending kill written to the database; its cancel, not confirmed on Kraken, is handed on as a follow-up request" : 'pending kill written to the database'}${
          announced ? '' : '; another process announces it, and it stays in DATA_DIR until that is stored'}`);
    }
    return { written, remaining: pending.length - written.length, ...(elsewhere.length > 0 ? { elsewhere } : {}) };
  } catch (err) {
    return { written, remaining: pending.length - written.length, ...(elsewhere.length > 0 ? { elsewhere } : {}), error: describeError(err) };
  }
}

/**
 * Stores the saved kill's critical alert with the mark that it is announced, in one transaction (the
 * outbox delivers it): a write that gives up at its deadline and commits later stored both, and one
 * rolled back neither, so the next replay announces it. Nothing when the announcement is no longer
 * `by`'s (taken over, or stored). A sink without an outbox (the log) is told after the mark.
 */
async function announceReplay(ctx: ReplayDeps, killId: string, by: string, alert: AlertInput): Promise<void> {
  const within = ctx.alerts.raiseWithin?.bind(ctx.alerts);
  const result = await withDeadline(ctx.db.transaction(async (tx) => {
    if (!(await markKillReplayAnnounced(tx, { killId, by }))) return { marked: false as const };
    return { marked: true as const, stored: within ? await within(tx, alert) : undefined };
  }), ctx.config.KILL_DB_TIMEOUT, 'the database');
  if (!result.marked) return;
  if (result.stored) {
    result.stored();
    return;
  }
  await withDeadline(ctx.alerts.raise(alert), ctx.config.KILL_DB_TIMEOUT, 'the alert pipeline')
    .catch((err) => ctx.logger.error({ err }, 'could not raise the replay alert'));
}

/**
 * The Kraken cancel this process made for the saved kill (halt-cancel.ts), once it answered (its own
 * bound ends it): null when it could not say; undefined when this process made none (no key, or not
 * a trading process) — then the saved kill's own answer is all there is.
 */
async function ownCancelFor(ctx: ReplayDeps, killId: string): Promise<VenueCancelReport | null | undefined> {
  const cancel = ctx.jobs ? haltCancelForKill({ jobs: ctx.jobs }, killId) : undefined;
  return cancel ? cancel.catch(() => null) : undefined;
}

/**
 * Whether the saved kill is this database's to write. Saved by an older version (no target): anyone's.
 * The server's identity, when the kill recorded it and this database says its own, decides: the same
 * server under another name (an alias, a promoted standby) writes it; another server does not, even
 * under the same name (a new cluster at the old address). Else the names (kill-target.ts).
 */
async function aimedHere(ctx: ReplayDeps, kill: PendingKill, ours: string): Promise<{ yes: boolean; server?: ServerIdentity }> {
  if (kill.target === undefined) return { yes: true };
  const server = kill.server ? await learnServerIdentity(ctx) : undefined;
  if (kill.server && server) return { yes: sameServer(kill.server, server), server };
  return { yes: sameKillTarget(kill.target, ours) };
}

/** Saved kills this process has said are another database's: said once each, not at every poll. */
const toldOtherDatabase = new Set<string>();

function tellOtherDatabase(ctx: ReplayDeps, kill: PendingKill, ours: string, server: ServerIdentity | undefined): void {
  if (toldOtherDatabase.has(kill.killId)) return;
  toldOtherDatabase.add(kill.killId);
  const aimed = `${kill.target}${kill.server && server ? ` (${describeServer(kill.server)})`
    : kill.server ? '' : ' (identity unknown: decided by name; the killing process never learned its server identity)'}`;
  const here = `${ours}${kill.server && server ? `, ${describeServer(server)}` : ''}`;
  ctx.logger.error({ killId: kill.killId, reason: kill.reason, aimedAt: kill.target, thisDatabase: ours, ...(kill.server && server ? { aimedAtServer: kill.server, thisServer: server } : {}),
    file: pendingKillPath(ctx.config.DATA_DIR) },
    `a kill saved in DATA_DIR is aimed at ${aimed}, not at this process's database (${here}): it is left in the file for a process on that database to write; this process stays halted until it is written (ctb kill saved lists it; should that database never answer again, ctb kill saved --discard ${kill.killId} --reason "…" drops it)`);
}
