// `ctb self-heal`: check the database, a saved kill, the exchange and the engine heartbeat; repair
// what can be repaired (retry with backoff, write saved kills, resync orders); never lifts a halt.
import { z } from 'zod';
import { selfHeal, type SelfHealResult } from '../src/services/self-heal/self-heal.js';
import { defineCommand } from './define.js';

export const selfHealCommand = defineCommand({
  name: 'self-heal',
  summary: 'detect and repair a lost database, exchange errors, a stale engine heartbeat; never resumes a halt',
  role: 'operator',
  args: z.object({ attempts: z.number({ error: 'expected a whole number of attempts from 1 to 10' }).int('expected a whole number of attempts from 1 to 10').min(1, 'expected at least 1 attempt').max(10, 'expected at most 10 attempts').optional().default(5) }),
  run: (ctx, args): Promise<SelfHealResult> => selfHeal(ctx, { attempts: args.attempts, alwaysResync: true, runBy: 'once' }),
});

/**
 * `ctb self-heal`'s exit status when the only thing that kept it from finishing is the order lock,
 * held by another holder (EX_TEMPFAIL): nothing found broken, but intents not resolved — run it again.
 */
export const SELF_HEAL_BUSY_EXIT = 75;

/** 0 nothing left to do; 2 the database cannot be used as configured; 1 something broken, refused for now or left for later; 75 only the lock's holder in the way. */
export function selfHealExitCode(r: SelfHealResult): number {
  if (r.ok) return 0;
  if (r.configurationError) return 2;
  return r.actions.some((a) => a.status === 'failed' || a.status === 'deferred') ? 1 : SELF_HEAL_BUSY_EXIT;
}

export function renderSelfHeal(r: SelfHealResult): string {
  const icon = { ok: 'ok     ', healed: 'HEALED ', failed: 'FAILED ', deferred: 'LATER  ', busy: 'BUSY   ', skipped: 'skipped' } as const;
  const lines = r.actions.map((a) => `${icon[a.status]}  ${a.check.padEnd(12)} ${a.detail}`);
  const halt = r.halted === null ? 'halt state unknown (no database)' : r.halted ? 'the bot is HALTED and stays halted (ctb resume lifts it)' : 'not halted';
  const failed = r.actions.some((a) => a.status === 'failed');
  const deferred = r.actions.some((a) => a.status === 'deferred');
  const verdict = r.ok ? 'Self-heal: nothing left broken'
    : failed ? 'Self-heal: something is still broken (see FAILED)'
      : deferred ? 'Self-heal: NOT finished — left for later (see LATER); run it again later'
        : 'Self-heal: NOT finished — another holder has the order lock, so the intents were not resolved (see BUSY); run it again once the lock is free';
  return [...lines, '', `${verdict}; ${halt}.`].join('\n');
}
