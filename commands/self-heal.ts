// `ctb self-heal`: check the database, a saved kill, the exchange and the engine heartbeat; repair
// what can be repaired (retry with backoff, write saved kills, resync orders); never lifts a halt.
import { z } from 'zod';
import { selfHeal, type HealAction, type SelfHealResult } from '../src/services/self-heal/self-heal.js';
import { defineCommand } from './define.js';

export const selfHealCommand = defineCommand({
  name: 'self-heal',
  summary: 'detect and repair a lost database, exchange errors, a stale engine heartbeat; never resumes a halt',
  role: 'operator',
  args: z.object({ attempts: z.number({ error: 'expected a whole number of attempts from 1 to 10' }).int('expected a whole number of attempts from 1 to 10').min(1, 'expected at least 1 attempt').max(10, 'expected at most 10 attempts').optional().default(5) }),
  run: (ctx, args): Promise<SelfHealResult> => selfHeal(ctx, { attempts: args.attempts, alwaysResync: true, runBy: 'once' }),
});

/**
 * `ctb self-heal`'s exit status (EX_TEMPFAIL) when all that kept it from finishing passes by itself:
 * Kraken refusing for now (its rate limit, maintenance), a live order whose fills were not booked
 * yet (in flight, or sent while the ledger was reconciled), or the order lock held by another holder.
 * Nothing found broken — run it again later.
 */
export const SELF_HEAL_TRY_AGAIN_EXIT = 75;

/**
 * What only needs a later run: Kraken's passing refusal or an order's fills not booked yet
 * (deferred), or the lock's holder in the way (busy).
 */
const tryAgain = (a: HealAction) => a.status === 'busy' || (a.status === 'deferred' && (a.refusedFor !== undefined || a.waitingFor !== undefined));

/**
 * 0 nothing left to do; 2 the database cannot be used as configured; 75 only Kraken's passing
 * refusals, fills not booked yet, or the lock's holder in the way; 1 anything else not ok — something broken (failed), or
 * intents left unresolved for a reason not known to pass.
 */
export function selfHealExitCode(r: SelfHealResult): number {
  if (r.ok) return 0;
  if (r.configurationError) return 2;
  return r.actions.every((a) => a.status === 'ok' || a.status === 'healed' || a.status === 'skipped' || tryAgain(a)) ? SELF_HEAL_TRY_AGAIN_EXIT : 1;
}

export function renderSelfHeal(r: SelfHealResult): string {
  const icon = { ok: 'ok     ', healed: 'HEALED ', failed: 'FAILED ', deferred: 'LATER  ', busy: 'BUSY   ', skipped: 'skipped' } as const;
  const lines = r.actions.map((a) => `${icon[a.status]}  ${a.check.padEnd(12)} ${a.detail}`);
  const halt = r.halted === null ? 'halt state unknown (the database did not give it)' : r.halted ? 'the bot is HALTED and stays halted (ctb resume lifts it)' : 'not halted';
  const failed = r.actions.some((a) => a.status === 'failed');
  const deferred = r.actions.some((a) => a.status === 'deferred');
  const verdict = r.ok ? 'Self-heal: nothing left broken'
    : failed ? 'Self-heal: something is still broken (see FAILED)'
      : deferred ? 'Self-heal: NOT finished — left for later (see LATER); run it again later'
        : 'Self-heal: NOT finished — another holder has the order lock, so the intents were not resolved (see BUSY); run it again once the lock is free';
  return [...lines, '', `${verdict}; ${halt}.`].join('\n');
}
