// Owns withdrawing the live approval when the engine takes its lease unarmed (domain/live-withdrawal.ts
// says why): the holder of the engine lease, running without IS_LIVE, finds bot_state saying live and
// records the switch to paper itself — in one transaction with its command trail row, and only while
// the lease row is still its own (held until the commit, so a takeover waits for it). Once only: the
// mode is read under its row lock, so a second holder, or this one after a restart, finds paper and
// does nothing. A halt in force stays; an open live request is withdrawn with the approval. One
// critical alert through the outbox (Slack thread, email, paging as any critical), stored in that same
// transaction: a crash or a failed write after the commit cannot lose the page.
// Never called by a process that does not hold the lease (a web replica, a standby worker).
import { sql } from 'drizzle-orm';
import { storeAlertWithin } from '../../alerts/store-within.js';
import type { AlertInput } from '../../alerts/types.js';
import type { Clock } from '../../clock.js';
import type { Config } from '../../config/env.js';
import type { Db } from '../../db/client.js';
import type { ModeChangeRequest } from '../../db/schema/index.js';
import { holdsLeaseRow } from '../../db/queries/engine-lease.js';
import { insertCommandLogIn } from '../../db/queries/command-log.js';
import { databaseNow } from '../../db/queries/database-clock.js';
import { WITHDRAWAL_ACTOR, WITHDRAWAL_FINGERPRINT, withdrawalReason } from '../../domain/live-withdrawal.js';
import { getBotState } from '../bot-state.js';
import type { AnnounceDeps } from './announce.js';
import { announceNow } from './announce-pending.js';
import type { LiveSwitchPorts } from './ports.js';
import { recordPaperSwitch } from './switch-to-paper.js';
import { sleep } from '../../market/sleep.js';
import { DeadlineError, describeError, withDeadline } from '../kill/deadline.js';
import { openTrades } from '../../db/queries/ledger-trades.js';
import { holdTakeoverForReconciliation } from '../reconcile/start/run.js';
import { liveLeftOpenOf, liveLeftOpenPhrase, livePositionText, type LiveLeftOpen } from '../../domain/live-left-open.js';

/**
 * How long the withdrawal waits for a row another transaction holds (bot_state, a request) before it
 * gives up and is tried again: it holds the lease row FOR SHARE meanwhile, which the lease's renewal
 * waits behind — unbounded, the lease went stale (self-heal paged) and a SIGTERM waited it out.
 * At most this, and well under the lease's renewal period (a third of ENGINE_LEASE_TTL): see
 * withdrawalLockWaitMs.
 */
export const WITHDRAWAL_LOCK_WAIT_MS = 2_000;

/**
 * The withdrawal's lock wait for a lease of `leaseTtlMs`: WITHDRAWAL_LOCK_WAIT_MS, or a sixth of the
 * TTL when that is shorter (ENGINE_LEASE_TTL may be as short as 1 s, whose renewals come every 333 ms:
 * a 2 s wait would let the lease go stale behind it), and never under 50 ms.
 */
export function withdrawalLockWaitMs(leaseTtlMs: number): number {
  return Math.max(50, Math.min(WITHDRAWAL_LOCK_WAIT_MS, Math.floor(leaseTtlMs / 6)));
}

export interface WithdrawalDeps extends AnnounceDeps {
  db: Db;
  clock: Clock;
  config: Pick<Config, 'IS_LIVE' | 'ENGINE_LEASE_TTL' | 'KILL_DB_TIMEOUT' | 'MODE_ANNOUNCE_ALERT_AFTER'>;
}

/** The engine that took the lease, as its lease row names it. */
export interface LeaseHolder {
  holderId: string;
  host: string;
  pid: number;
  role: string;
  /** The dead predecessor whose stale lease it took over, if any: its live work is held for reconciliation. */
  takenOverFrom?: string | null;
}

export interface Withdrawal {
  /** The switched request that records it. */
  request: ModeChangeRequest;
  reason: string;
  /** Open live requests withdrawn with it. */
  withdrawn: number[];
  /** A halt in force, left as it was (or placed for a takeover's reconciliation). */
  halted: boolean;
  /** Taken over from a dead predecessor: halted and blocked until reconciliation with Kraken passes. */
  heldForReconciliation: boolean;
  /** The open live positions left on Kraken (the paper engine neither loads nor sells them); null when none is. */
  liveLeftOpen: LiveLeftOpen | null;
}

/**
 * Called by the lease's holder once it has taken the lease: when it is not armed and bot_state says
 * live, switches to paper with why, and alerts. Null when there is nothing to withdraw (armed, paper
 * already, or the lease no longer this holder's).
 */
export async function withdrawLiveIfUnarmed(
  ctx: WithdrawalDeps, ports: LiveSwitchPorts, holder: LeaseHolder, opts: { lockWaitMs?: number } = {},
): Promise<Withdrawal | null> {
  if (ctx.config.IS_LIVE) return null;
  // The common case (paper) costs one read and locks nothing.
  if ((await getBotState(ctx.db)).mode !== 'live') return null;
  const done = await ctx.db.transaction(async (tx) => {
    // Local to this transaction: a lock held elsewhere fails it (lock_not_available) instead of stalling the lease.
    await tx.execute(sql`select set_config('lock_timeout', ${`${opts.lockWaitMs ?? withdrawalLockWaitMs(ctx.config.ENGINE_LEASE_TTL)}ms`}, true)`);
    // The lease first (a share lock, as the live switch takes it: the two never wait on each other for it).
    if (!(await holdsLeaseRow(tx, holder.holderId))) return null;
    const at = await databaseNow(tx);
    const reason = withdrawalReason({ holderId: holder.holderId, at });
    const actor = { id: WITHDRAWAL_ACTOR, source: 'system' as const };
    const record = await recordPaperSwitch(tx, ctx.clock, {
      actor, reason, onlyFromLive: true,
      outcome: `live approval withdrawn by ${WITHDRAWAL_ACTOR}: ${reason}`,
      withdrawnBecause: `the live approval was withdrawn (${reason})`,
    });
    if (!record.changed || !record.request) return null;
    // After a dead predecessor, as an armed engine's takeover would (reconcile/start/monitor.ts begin):
    // its live orders and intents wait for reconciliation with Kraken, halted.
    const heldForReconciliation = holder.takenOverFrom ? await holdTakeoverForReconciliation(tx, ctx.clock.now(), holder.takenOverFrom) : false;
    const halted = (await getBotState(tx)).halted;
    const live = await openTrades(tx, 'live');
    const liveLeftOpen = liveLeftOpenOf(live.length, live.slice(0, 5).map(livePositionText));
    await insertCommandLogIn(tx, {
      at, source: 'system', actor: WITHDRAWAL_ACTOR, command: 'mode paper', args: '', allowed: true,
      result: `live approval withdrawn: ${reason}`,
      details: {
        requestId: record.request.id, holderId: holder.holderId, host: holder.host, pid: holder.pid, role: holder.role,
        withdrawnRequests: record.withdrawn.map((w) => w.id), halted, openLivePositions: live.map((t) => t.id),
        ...(holder.takenOverFrom ? { takenOverFrom: holder.takenOverFrom, heldForReconciliation } : {}),
      },
    });
    const alert = withdrawalAlert(holder, { requestId: record.request.id, reason, withdrawn: record.withdrawn.map((w) => w.id), halted, liveLeftOpen, heldForReconciliation });
    // Stored with the switch (the outbox row commits with it); a sink without an outbox raises after the commit.
    const stored = await storeAlertWithin(ctx.alerts, ctx.logger, tx, alert);
    return { record, reason, halted, liveLeftOpen, stored, heldForReconciliation };
  });
  if (!done) return null;

  const { record, reason, halted, liveLeftOpen, stored, heldForReconciliation } = done;
  ctx.logger.warn({ requestId: record.request!.id, holderId: holder.holderId, halted }, `live approval withdrawn: ${reason}`);
  await stored();
  await announceNow(ctx, ports, record.withdrawn);
  return { request: record.request!, reason, withdrawn: record.withdrawn.map((w) => w.id), halted, liveLeftOpen, heldForReconciliation };
}

/** The withdrawal's critical alert: which engine, what it withdrew, the live positions it leaves, and the ways out. */
function withdrawalAlert(
  holder: LeaseHolder, w: { requestId: number; reason: string; withdrawn: number[]; halted: boolean; liveLeftOpen: LiveLeftOpen | null; heldForReconciliation: boolean },
): AlertInput {
  return {
    source: 'mode', severity: 'critical', fingerprint: WITHDRAWAL_FINGERPRINT,
    title: `Live approval withdrawn: the engine ${holder.host}:${holder.pid} (${holder.role}) took the lease without IS_LIVE; trading PAPER`,
    details: {
      requestId: w.requestId, reason: w.reason, holderId: holder.holderId, withdrawnRequests: w.withdrawn, halted: w.halted,
      ...(w.liveLeftOpen ? { liveLeftOpen: liveLeftOpenPhrase(w.liveLeftOpen) } : {}),
      ...(w.heldForReconciliation ? {
        takenOverFrom: holder.takenOverFrom,
        heldForReconciliation: `taken over from ${holder.takenOverFrom} (its lease went stale): halted until reconciliation with Kraken passes (ctb reconcile)`,
      } : {}),
      fix: withdrawalFix(w.liveLeftOpen),
    },
  };
}

/** The alert's fix: the live positions left first (nobody manages them), then going live, then resolving it. */
export function withdrawalFix(liveLeftOpen: LiveLeftOpen | null): string {
  return [
    ...(liveLeftOpen ? [liveLeftOpenPhrase(liveLeftOpen)] : []),
    'To trade live again: restart the engine with IS_LIVE=true and its Kraken keys, then request /mode live and get two approvals.',
    'Acknowledge or resolve this alert once handled: then it is not counted against the go-live criteria (a safety action, not a fault of the strategy); an engine that takes the lease armed resolves it.',
  ].join(' ');
}

/**
 * An armed engine that takes the lease mends the link whose break the withdrawal reported (an engine
 * holding the lease without IS_LIVE): the withdrawal's alert group, left open, is resolved, as other
 * conditions' groups are once they no longer hold, saying who mended it and that going live still
 * needs a new approval. Left open, it paged nobody anew but was counted against the go-live criteria
 * and read as a standing fault. The id of the group resolved, or null when none was open.
 */
export async function resolveWithdrawalOnceArmed(ctx: WithdrawalDeps, holder: LeaseHolder): Promise<number | null> {
  if (!ctx.config.IS_LIVE || !ctx.alerts.resolve) return null;
  return ctx.alerts.resolve({
    fingerprint: WITHDRAWAL_FINGERPRINT, by: WITHDRAWAL_ACTOR,
    note: `the engine ${holder.host}:${holder.pid} (${holder.role}) took the lease armed (IS_LIVE=true): no unarmed engine holds it now. `
      + 'The mode stays as recorded; trading live again still needs /mode live and two approvals.',
  });
}

/**
 * withdrawLiveIfUnarmed, retried (doubling from `retryMs`, up to a minute) until the database answers
 * or `signal` aborts (a try waits at most withdrawalLockWaitMs(ENGINE_LEASE_TTL) on a locked row, so a stop is prompt): the engine starts only after, so no armed restart can find the old approval
 * standing because this one could not write. Null when nothing was withdrawn (or it stopped first).
 * Armed, nothing is withdrawn: an earlier withdrawal's open alert group is resolved (resolveWithdrawalOnceArmed),
 * waited for at most KILL_DB_TIMEOUT. That resolve can take minutes (it waits out a Slack send under
 * way, twelve tries) or hang with the database; past the deadline the engine starts and the resolve
 * goes on by itself, its failure logged.
 */
export async function withdrawLiveUntilDone(
  ctx: WithdrawalDeps, ports: LiveSwitchPorts, holder: LeaseHolder,
  opts: { signal: AbortSignal; retryMs?: number; onRetry?: (error: string) => void },
): Promise<Withdrawal | null> {
  if (ctx.config.IS_LIVE) {
    // Nothing to withdraw armed. The resolve holds the engine's start for KILL_DB_TIMEOUT at most; a
    // failure to resolve, then or later, is logged and never holds it.
    const failed = (err: unknown) => ctx.logger.error({ error: describeError(err) }, 'could not resolve the alert of an earlier live withdrawal (this engine is armed); resolve it by hand once handled');
    const resolving = resolveWithdrawalOnceArmed(ctx, holder);
    try {
      await withDeadline(resolving, ctx.config.KILL_DB_TIMEOUT, 'resolving the alert of an earlier live withdrawal');
    } catch (err) {
      if (!(err instanceof DeadlineError)) failed(err);
      else {
        ctx.logger.warn({ waitedMs: ctx.config.KILL_DB_TIMEOUT }, 'resolving the alert of an earlier live withdrawal takes longer than KILL_DB_TIMEOUT (a Slack send under way, or the database slow); the engine starts without it and the resolve goes on');
        resolving.catch(failed);
      }
    }
    return null;
  }
  let waitMs = opts.retryMs ?? 1_000;
  for (let failures = 1; !opts.signal.aborted; failures++) {
    try {
      return await withdrawLiveIfUnarmed(ctx, ports, holder);
    } catch (err) {
      opts.onRetry?.(describeError(err));
      if (failures === 1 || failures % 10 === 0) {
        ctx.logger.error({ error: describeError(err), failures }, 'could not check whether the live approval must be withdrawn (this engine is not armed); retrying before the engine starts');
      }
      await sleep(waitMs, opts.signal);
      waitMs = Math.min(waitMs * 2, 60_000);
    }
  }
  return null;
}
