// The engine lease of a bot a test stands in for: taken, then renewed every second the way a running
// engine heartbeats, until stopped. A lease written once goes stale after ENGINE_LEASE_TTL (15 s by
// default), and a loaded machine can take that long to start a child `ctb`: the child would then
// rightly see a dead engine, which is not what the test is about.
import { acquireLease, renewLease, type LeaseClaim } from '../../src/db/queries/engine-lease.js';
import type { Db } from '../../src/db/client.js';

export async function holdLease(db: Db, claim: LeaseClaim, ttlMs: number): Promise<() => Promise<void>> {
  const taken = await acquireLease(db, claim, ttlMs);
  if (!taken.acquired) throw new Error(`the engine lease is held by ${taken.lease?.holderId ?? 'nobody'}, not ${claim.holderId}`);
  return renewedEverySecond(() => renewLease(db, claim));
}

/** Runs `renew` every second, as a running engine heartbeats, until the returned stop (which waits for a renewal under way). */
export function renewedEverySecond(renew: () => Promise<unknown>): () => Promise<void> {
  let renewing: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    renewing = renew().catch(() => undefined);
  }, 1_000);
  return async () => {
    clearInterval(timer);
    await renewing;
  };
}
