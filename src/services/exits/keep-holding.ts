// Owns keeping a claim on telling exits (exit-outcomes.ts: a lease) for as long as the telling takes:
// a requester showing an answer (request-exit.ts showExitAnswer) or a sweep telling its batch
// (tell-exit.ts) renews it every third of the lease, so a reader or a Slack update slower than the
// lease does not let another process tell the same answer a second time. A process that dies stops
// renewing: its claim runs out and a sweep tells what it had not.
import type { Db } from '../../db/client.js';
import { renewExitOutcomeClaim } from '../../db/queries/exit-outcomes.js';
import type { Logger } from '../../logger.js';

/**
 * Renews `claim` on the exits `ids()` names (those still to be told) every third of `leaseMs` until stopped (each renewal after the last
 * one answered, so a slow database does not pile them up); the timer does not keep the process alive.
 * A claim found taken over on every one of them (its lease ran out all the same: a stalled process)
 * is logged, and no longer renewed.
 */
export function keepHolding(ctx: { db: Db; logger: Logger }, ids: () => readonly number[], claim: string, leaseMs: number): { stop: () => Promise<void> } {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let renewing: Promise<void> = Promise.resolve();
  const schedule = () => {
    timer = setTimeout(() => {
      const holding = ids();
      renewing = renewExitOutcomeClaim(ctx.db, holding, claim).then((held) => {
        if (held === 0 && holding.length > 0 && !stopped) {
          stopped = true;
          ctx.logger.warn({ requestIds: holding }, 'an exit\'s answer was still being told when the claim on telling it was taken over or told; it may be told twice');
        }
      }, (err: unknown) => ctx.logger.warn({ err, requestIds: holding }, 'could not renew the claim on telling an exit\'s answer; tried again')).finally(() => {
        if (!stopped) schedule();
      });
    }, Math.max(1, Math.floor(leaseMs / 3)));
    timer.unref?.();
  };
  schedule();
  return {
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      await renewing;
    },
  };
}
