// Owns the kill's Kraken cancel in a process without the Kraken key (a web replica, an operator's
// shell): it is handed through the database to the running bot that has the key (a `cancel_all`
// engine request, carried out by engine-requests/handlers.ts), and the kill waits for its answer.
// No answer in KILL_HANDOFF_TIMEOUT is reported as such — orders may remain — and the request is
// withdrawn so a process that starts later does not act on it. When the engine lease shows no
// running bot with the key, nobody would answer: it is said at once, without the wait (the kill's
// follow-up request still waits for a bot that starts). The lease is read once by the caller
// (leaseForHandoff) and that one reading decides everything here, so two decisions of one kill
// cannot rest on two different leases.
import type { Clock } from '../../clock.js';
import type { Config } from '../../config/env.js';
import type { Db } from '../../db/client.js';
import type { Logger } from '../../logger.js';
import { describeHolder, noBotWithKeyPhrase, type EngineHolderView } from '../../domain/engine-holder.js';
import { krakenUseEver } from '../../db/queries/kraken-use-ever.js';
import { readEngineHolder } from '../engine-lease/holder-view.js';
import { enqueueEngineRequest, getEngineRequest, withdrawEngineRequest } from '../engine-requests/store.js';
import type { VenueCancelReport } from './cancel-everywhere.js';
import { describeError, sleep, withDeadline } from './deadline.js';

/** Handing the cancel over: the engine request it is written as, the waits, the log. */
export interface HandoffDeps {
  db: Db;
  clock: Clock;
  config: Pick<Config, 'KILL_HANDOFF_TIMEOUT' | 'KILL_DB_TIMEOUT' | 'ENGINE_LEASE_TTL'>;
  logger: Logger;
}

const NO_KEY = 'this process has no Kraken key';

/** `by`: the bot that took the request, when one did (it then did not answer in time). */
function unanswered(requestId: number | null, status: string, why: string, by: string | null = null): VenueCancelReport {
  return {
    venue: 'kraken', canceled: null, confirmed: false, attempts: 0, survivors: [], errors: [`${why}: orders may remain open on Kraken`],
    handedOff: { requestId, by, status },
  };
}

/**
 * The engine lease as a keyless kill reads it, once, for every decision it makes about Kraken (is
 * there a running bot with the key to hand the cancel to; was this bot never live here). Null when
 * it could not be read: whether a bot runs is then unknown.
 */
export function leaseForHandoff(ctx: HandoffDeps): Promise<EngineHolderView | null> {
  return withDeadline(readEngineHolder(ctx), ctx.config.KILL_DB_TIMEOUT, 'the database').catch(() => null);
}

const runsWithKey = (holder: EngineHolderView) => holder.state === 'running' && holder.hasKrakenKeys;

/**
 * What a keyless kill can say of Kraken without asking it: null unless the engine lease (`holder`,
 * read by leaseForHandoff) shows no running bot with the key, and this database records no Kraken
 * use ever (krakenUseEver: no live order, no keyed or armed lease, no live mode, no cancel on Kraken).
 * Then this bot never had anything on Kraken, and nothing could take a cancel now: the phrase says
 * who has no key. A database that saw Kraken use answers null — orders placed beside the bot with its
 * key may be open, and this process cannot see them — so the cancel is queued for a bot with the key
 * and the kill says NOT CONFIRMED. An unread lease or a failed read answers null too (not known).
 */
export async function neverLiveHere(ctx: HandoffDeps, holder: EngineHolderView | null): Promise<{ nobody: string } | null> {
  if (holder === null || runsWithKey(holder)) return null;
  try {
    const used = await withDeadline(krakenUseEver(ctx.db), ctx.config.KILL_DB_TIMEOUT, 'the database');
    if (used !== null) {
      ctx.logger.warn({ krakenUse: used, engine: describeHolder(holder) }, `no Kraken key here, and this database records Kraken use (${used}): Kraken cannot be checked from this process`);
      return null;
    }
    return { nobody: noBotWithKeyPhrase(holder) };
  } catch {
    return null;
  }
}

/** The venue report a finished request carries (handlers.ts puts it in result.report). */
function reportOf(result: Record<string, unknown> | null): VenueCancelReport | null {
  const report = result?.['report'] as VenueCancelReport | undefined;
  return report && report.venue === 'kraken' && Array.isArray(report.survivors) ? report : null;
}

/** `holder`: the engine lease as leaseForHandoff read it for this kill. */
export async function handKrakenCancelOver(
  ctx: HandoffDeps,
  holder: EngineHolderView | null,
  p: { killId: string; actor: string; reason: string; startedAt: number },
): Promise<VenueCancelReport> {
  const timeoutMs = ctx.config.KILL_HANDOFF_TIMEOUT;
  const deadline = performance.now() + timeoutMs;
  // Unreadable lease: whether a bot runs is unknown, so the cancel is handed over and waited for.
  if (holder && !runsWithKey(holder)) {
    ctx.logger.warn({ killId: p.killId, engine: describeHolder(holder) }, 'kill: no Kraken key here and no running bot has it: nobody can take the cancel now');
    return unanswered(null, 'no_bot', `${NO_KEY} and ${noBotWithKeyPhrase(holder)}, so nobody could cancel there now`);
  }
  let requestId: number;
  try {
    const request = await withDeadline(
      // answerWithinMs: how long this kill still waits for the answer, so the bot's rounds fit in it.
      enqueueEngineRequest(ctx.db, ctx.clock, { kind: 'cancel_all', requestedBy: p.actor, params: {
        killId: p.killId, reason: p.reason, killStartedAt: new Date(p.startedAt).toISOString(), answerWithinMs: Math.max(0, Math.round(deadline - performance.now())),
      } }),
      ctx.config.KILL_DB_TIMEOUT, 'the database');
    requestId = request.id;
  } catch (err) {
    return unanswered(null, 'not_sent', `${NO_KEY} and the cancel could not be handed to the running bot (${describeError(err)})`);
  }
  ctx.logger.warn({ requestId, killId: p.killId }, 'kill: no Kraken key here; the cancel is written for the running bot that has it');
  for (;;) {
    let row;
    try {
      row = await withDeadline(getEngineRequest(ctx.db, requestId), ctx.config.KILL_DB_TIMEOUT, 'the database');
    } catch (err) {
      if (performance.now() >= deadline) return unanswered(requestId, 'unknown', `${NO_KEY}; the running bot's answer could not be read (${describeError(err)})`);
      await sleep(50);
      continue;
    }
    if (row && (row.status === 'done' || row.status === 'failed')) {
      const report = reportOf(row.result);
      const handedOff = { requestId, by: row.claimedBy, status: row.status };
      if (report) return { ...report, handedOff };
      return { ...unanswered(requestId, row.status, `${NO_KEY}; the running bot (${row.claimedBy ?? 'unknown'}) answered: ${row.error ?? 'no report'}`), handedOff };
    }
    if (performance.now() >= deadline) {
      const seconds = Math.round(timeoutMs / 100) / 10;
      const withdrawn = await withDeadline(withdrawEngineRequest(ctx.db, ctx.clock, requestId, `no process with a Kraken key answered within ${seconds} s`), ctx.config.KILL_DB_TIMEOUT, 'the database')
        .catch(() => false);
      if (withdrawn) return unanswered(requestId, 'withdrawn', `${NO_KEY} and no running bot with the key took the cancel within ${seconds} s (is it running?)`);
      return unanswered(requestId, row?.status ?? 'unknown', `${NO_KEY}; the running bot (${row?.claimedBy ?? 'unknown'}) took the cancel but did not answer within ${seconds} s`, row?.claimedBy ?? null);
    }
    await sleep(Math.min(50, Math.max(1, deadline - performance.now())));
  }
}
