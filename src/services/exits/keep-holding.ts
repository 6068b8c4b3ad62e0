// Owns keeping a claim on telling exits (exit-outcomes.ts: a lease) for as long as the telling takes:
// a requester showing an answer (request-exit.ts showExitAnswer) or a sweep telling its batch
// (tell-exit.ts) renews it every third of the lease, so a reader or a Slack update slower than the
// lease does not let another process tell the same answer a second time. A process that dies stops
// renewing: its claim runs out and a sweep tells what it had not. A holder given a bound (a requester
// whose print may block for good: a terminal stopped with Ctrl-S, a pager nobody scrolls) stops
// renewing once it has held that long: its claim runs out and a sweep tells the answer — told twice,
// if the print ever finishes, is better than a failed sell never reaching the alert channel.
import type { Db } from '../../db/client.js';
import { renewExitOutcomeClaim } from '../../db/queries/exit-outcomes.js';
import type { Logger } from '../../logger.js';

/**
 * Renews `claim` on the exits `ids()` names (those still to be told) every third of `leaseMs` until stopped (each renewal after the last
 * one answered, so a slow database does not pile them up); the timer does not keep the process alive.
 * A claim found taken over on every one of them (its lease ran out all the same: a stalled process)
 * is logged, and no longer renewed. With `forMs`, no renewal starts `forMs` or later after this call:
 * the claim then runs out at most a lease later (logged), and a sweep tells what is still untold.
 */
export function keepHolding(
  ctx: { db: Db; logger: Logger }, ids: () => readonly number[], claim: string, leaseMs: number, opts: { forMs?: number } = {},
): { stop: () => Promise<void> } {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let renewing: Promise<void> = Promise.resolve();
  const started = performance.now(); // monotonic: a wall clock stepped back would hold it longer
  const schedule = () => {
    timer = setTimeout(() => {
      const holding = ids();
      if (opts.forMs !== undefined && performance.now() - started >= opts.forMs) {
        stopped = true;
        ctx.logger.warn({ requestIds: holding, heldMs: Math.round(performance.now() - started) }, 'an exit\'s answer is still being shown after the hold\'s bound; no longer held: the alert channel is told it once the lease is out, even if it is shown later');
        return;
      }
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
