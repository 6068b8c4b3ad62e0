// Owns this process's side of the engine lease: wait on standby until the lease is free or stale (or
// its holder provably gone: a dead pid on this host, holder-gone.ts), take it, renew it every third of ENGINE_LEASE_TTL, and give it up on a graceful stop. holdsLease()
// is the fence every trading decision asks: it turns false at once when a renewal finds another
// holder, and also when no renewal has been confirmed for most of the TTL (a process that hung, or
// lost its database, stops trading before any standby may take over) — until a renewal confirms it.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { Config } from '../../config/env.js';
import type { Db } from '../../db/client.js';
import type { EngineLease } from '../../db/schema/index.js';
import type { Logger } from '../../logger.js';
import { sleep } from '../../market/sleep.js';
import { describeError, withDeadline } from '../kill/deadline.js';
import { acquireLease, releaseLease, renewLease, type LeaseClaim } from '../../db/queries/engine-lease.js';
import { ENGINE_START_STEP } from '../../domain/engine-waiting.js';
import { leaseRenewEveryMs } from '../../domain/engine-holder.js';
import { holderGone, pidExists, readBootId, recordedScope } from './holder-gone.js';

/** Share of the TTL after the last confirmed renewal beyond which this process no longer trusts its lease. */
const TRUST_SHARE = 0.8;

export interface AcquiredLease {
  lease: EngineLease;
  /** The holder whose stale lease was taken over (it died or hung), or null for a clean start. */
  takenOverFrom: string | null;
}

export interface LeaseKeeper {
  readonly holderId: string;
  /** True while this process holds the lease and a renewal confirmed it within most of the TTL. */
  holdsLease(): boolean;
  /** Held (lost to nobody) but no renewal confirmed it within most of the TTL: the database did not answer. */
  leaseUnconfirmed(): boolean;
  /** Waits (on standby) until this process holds the lease; null when `signal` aborts first. */
  acquire(signal: AbortSignal): Promise<AcquiredLease | null>;
  /**
   * What the last try for the lease found: taken by this process, held by another (named: host:pid
   * (role)), or no answer yet (not tried, or the database did not answer). `tried` settles once the
   * first try has an answer or failed.
   */
  standing(): EngineStanding;
  readonly tried: Promise<void>;
  /** Resolves with the reason when the lease held since the last acquire() is lost. */
  lost(): Promise<string>;
  /**
   * The lease row was found naming another holder outside a renewal (an order intent's statement
   * refused: engine/ledger/intent-lease.ts): lost now, as when a renewal finds it taken.
   */
  lose(reason: string): void;
  /** One renewal now (the timer calls it; tests call it). False when the lease is not ours any more. */
  renew(): Promise<boolean>;
  /** Stops renewing and deletes the lease row if it is still ours (graceful stop). */
  release(): Promise<void>;
  /** What its lease row is now (EngineLeaseRow): read when said, since a release may end late. */
  leaseRow(): EngineLeaseRow;
}

/**
 * This process's lease row as far as it knows: `ours` (taken, and neither released nor lost since: a
 * standby waits until it goes stale), `released` (its release deleted it), `none` (never taken, or
 * another holder has it).
 */
export type EngineLeaseRow = 'ours' | 'released' | 'none';

export type EngineStanding = { kind: 'engine' } | { kind: 'standby'; holder: string } | { kind: 'asking' };

export interface LeaseKeeperOptions {
  role: string;
  feed: string;
  ttlMs?: number;
  /** How often a standby tries to take the lease (default a third of the TTL). */
  standbyPollMs?: number;
  /** Tests: whether a pid is a process on this host (default: signal 0), and this process's boot id. */
  pidExists?: (pid: number) => boolean;
  bootId?: string | null;
}

/** What the keeper needs: the lease row, the TTL, and what the claim says of this process (armed, keys). */
export interface LeaseKeeperDeps {
  db: Db;
  config: Pick<Config, 'ENGINE_LEASE_TTL' | 'IS_LIVE' | 'KRAKEN_API_KEY' | 'KRAKEN_API_SECRET'>;
  logger: Logger;
}

export function newHolderId(): string {
  return `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
}

export function createLeaseKeeper(ctx: LeaseKeeperDeps, opts: LeaseKeeperOptions): LeaseKeeper {
  const ttlMs = opts.ttlMs ?? ctx.config.ENGINE_LEASE_TTL;
  const holderId = newHolderId();
  const scope = opts.bootId !== undefined ? opts.bootId : readBootId();
  const claim: LeaseClaim = {
    holderId, host: hostname(), pid: process.pid, bootId: recordedScope(scope, holderId), role: opts.role, feed: opts.feed,
    armed: ctx.config.IS_LIVE, hasKrakenKeys: Boolean(ctx.config.KRAKEN_API_KEY && ctx.config.KRAKEN_API_SECRET),
    // Taken, the row says the engine waits until its first step is written: never "trading" meanwhile.
    waitingOnTake: ENGINE_START_STEP,
    // Written with every renewal: the holder's TTL, not a standby's, says when its lease is stale.
    ttlMs,
  };
  let held = false;
  let row: EngineLeaseRow = 'none';
  let confirmedAt = -Infinity;
  let timer: NodeJS.Timeout | undefined;
  let renewing: Promise<boolean> | null = null;
  let renewFailures = 0;
  let onLost: ((reason: string) => void) | null = null;
  let lostPromise: Promise<string> = new Promise(() => {});
  let standby: string | null = null;
  let markTried: () => void = () => {};
  const tried = new Promise<void>((resolve) => (markTried = resolve));

  const lose = (reason: string) => {
    if (!held) return;
    held = false;
    row = 'none';
    if (timer) clearInterval(timer);
    timer = undefined;
    ctx.logger.error({ holderId: claim.holderId, reason }, `engine lease lost (${reason}): this process stops trading and stands by`);
    onLost?.(reason);
  };

  const renewOnce = async (): Promise<boolean> => {
    if (!held) return false;
    const sentAt = performance.now();
    try {
      // A stalled database must not hold the renewal forever: the next tick tries again.
      const mine = await withDeadline(renewLease(ctx.db, claim), ttlMs, 'the database (engine lease renewal)');
      if (!held) return false;
      if (!mine) {
        lose('another process holds the engine lease');
        return false;
      }
      if (renewFailures > 0) ctx.logger.info({ failures: renewFailures }, 'engine lease renewals succeed again');
      renewFailures = 0;
      confirmedAt = sentAt;
      return true;
    } catch (err) {
      renewFailures += 1;
      if (renewFailures === 1 || renewFailures % 100 === 0) {
        ctx.logger.warn({ error: describeError(err), failures: renewFailures }, 'could not renew the engine lease; no trading until a renewal succeeds');
      }
      return false;
    }
  };

  const keeper: LeaseKeeper = {
    holderId: claim.holderId,
    holdsLease: () => held && performance.now() - confirmedAt < ttlMs * TRUST_SHARE,
    leaseUnconfirmed: () => held && !keeper.holdsLease(),
    standing: () => (keeper.holdsLease() ? { kind: 'engine' } : standby !== null && !held ? { kind: 'standby', holder: standby } : { kind: 'asking' }),
    tried,
    async acquire(signal) {
      let announced: string | null = null;
      while (!signal.aborted) {
        const sentAt = performance.now();
        try {
          let result = await acquireLease(ctx.db, claim, ttlMs);
          // A holder that died on this host (kill -9) is not waited out: its pid proves it gone.
          const gone = !result.acquired && result.lease && holderGone(result.lease, { host: claim.host, bootId: scope, pid: claim.pid }, opts.pidExists ?? pidExists)
            ? result.lease : null;
          if (gone) {
            ctx.logger.info({ holder: gone.holderId, pid: gone.pid }, `the engine lease's holder (pid ${gone.pid} on this host) is gone; taking over now, not when its lease goes stale`);
            result = await acquireLease(ctx.db, claim, ttlMs, gone.holderId);
          }
          if (result.acquired && result.lease) {
            held = true;
            row = 'ours';
            confirmedAt = sentAt;
            standby = null;
            markTried();
            lostPromise = new Promise((resolve) => (onLost = resolve));
            timer = setInterval(() => void keeper.renew(), leaseRenewEveryMs(ttlMs));
            timer.unref();
            ctx.logger.info({ holderId: claim.holderId, takenOverFrom: result.takenOverFrom },
              result.takenOverFrom
                ? `engine lease taken over from ${result.takenOverFrom}, ${gone?.holderId === result.takenOverFrom ? 'whose process is gone' : 'whose lease went stale'}`
                : 'engine lease taken: this process runs the engine');
            return { lease: result.lease, takenOverFrom: result.takenOverFrom };
          }
          const other = result.lease ? `${result.lease.host}:${result.lease.pid} (${result.lease.role})` : 'another process';
          if (announced !== other) ctx.logger.info({ holder: result.lease?.holderId }, `the engine runs in ${other}; standing by`);
          announced = other;
          standby = other;
        } catch (err) {
          standby = null;
          ctx.logger.warn({ error: describeError(err) }, 'could not try the engine lease; retrying');
        }
        markTried();
        await sleep(opts.standbyPollMs ?? leaseRenewEveryMs(ttlMs), signal);
      }
      return null;
    },
    lost: () => lostPromise,
    lose,
    leaseRow: () => row,
    renew() {
      renewing ??= renewOnce().finally(() => {
        renewing = null;
      });
      return renewing;
    },
    async release() {
      if (timer) clearInterval(timer);
      timer = undefined;
      await renewing;
      if (!held) return;
      held = false;
      try {
        const deleted = await releaseLease(ctx.db, claim.holderId);
        row = deleted ? 'released' : 'none';
        if (deleted) ctx.logger.info({ holderId: claim.holderId }, 'engine lease released');
        // Taken by another process (or removed) since the last renewal: nothing of this process's was released.
        else ctx.logger.warn({ holderId: claim.holderId }, 'the engine lease was no longer this process\'s at its release: nothing to release');
      } catch (err) {
        ctx.logger.warn({ error: describeError(err) }, 'could not release the engine lease; it goes stale and a standby takes over');
      }
    },
  };
  return keeper;
}
