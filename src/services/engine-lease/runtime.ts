// Owns where other parts of this process ask whether it holds the engine lease: the dead man's
// switch (only the trading process keeps Kraken's timer renewed), the self-heal watchdog, the engine
// request runner. One entry per context (keyed by its job registry, which every copy of it shares).
import { perContext, type PerContextKey } from './per-context.js';
import type { EngineLeaseRow, EngineStanding } from './keeper.js';
import { waitWithin } from './wait-within.js';

export interface LeaseHolderProbe {
  holdsLease(): boolean;
  /**
   * This process took the lease and lost it to nobody, but its last renewal is not confirmed (the
   * database did not answer): it does not trade, and no other process is known to.
   */
  leaseUnconfirmed?(): boolean;
  /** This process's id in the lease row (keeper.ts), where it keeps one. */
  readonly holderId?: string;
  /** What this process's last try for the lease found, once `tried` settled (keeper.ts). */
  standing?(): EngineStanding;
  readonly tried?: Promise<void>;
  /** What this process's lease row is now (keeper.ts). */
  leaseRow?(): EngineLeaseRow;
}

/** The probe is kept per job registry, which every copy of a context shares (per-context.ts). */
export type LeaseProbeDeps = PerContextKey;

const probes = perContext<LeaseHolderProbe>();

export function setEngineLease(ctx: LeaseProbeDeps, probe: LeaseHolderProbe | null): void {
  probes.set(ctx, probe);
}

/**
 * Whether this process holds the engine lease now; undefined when this process runs no engine at all
 * (a web replica, a CLI, a test without one), which callers decide about themselves.
 */
export function holdsLease(ctx: LeaseProbeDeps): boolean | undefined {
  return probes.get(ctx)?.holdsLease();
}

/** The id this process holds (or asks for) the engine lease under; undefined when it runs no engine. */
export function leaseHolderId(ctx: LeaseProbeDeps): string | undefined {
  return probes.get(ctx)?.holderId;
}

/**
 * This process's part in the engine once its first try for the lease has an answer (waiting at most
 * `waitMs`, and not past `stop`): it runs the engine, stands by behind another process, or has no
 * answer yet; undefined when it runs no engine at all.
 */
export async function engineStanding(ctx: LeaseProbeDeps, waitMs: number, stop?: AbortSignal): Promise<EngineStanding | undefined> {
  const probe = probes.get(ctx);
  if (!probe?.standing) return undefined;
  await waitWithin(probe.tried ?? Promise.resolve(), waitMs, stop);
  return probe.standing();
}

/** This process holds the lease unconfirmed (keeper.ts: renewals unanswered, lost to nobody); false without an engine. */
export function leaseUnconfirmed(ctx: LeaseProbeDeps): boolean {
  return probes.get(ctx)?.leaseUnconfirmed?.() ?? false;
}

/**
 * Reads what this process's engine lease row is, each time it is called — also after the engine's stop
 * has forgotten its probe (a stop left behind may release the lease late); 'none' without an engine.
 */
export function leaseRowReader(ctx: LeaseProbeDeps): () => EngineLeaseRow {
  const probe = probes.get(ctx);
  return () => probe?.leaseRow?.() ?? 'none';
}
