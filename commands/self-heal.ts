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
  run: (ctx, args): Promise<SelfHealResult> => selfHeal(ctx, { attempts: args.attempts, alwaysResync: true }),
});

export function renderSelfHeal(r: SelfHealResult): string {
  const icon = { ok: 'ok     ', healed: 'HEALED ', failed: 'FAILED ', deferred: 'LATER  ', skipped: 'skipped' } as const;
  const lines = r.actions.map((a) => `${icon[a.status]}  ${a.check.padEnd(12)} ${a.detail}`);
  const halt = r.halted === null ? 'halt state unknown (no database)' : r.halted ? 'the bot is HALTED and stays halted (ctb resume lifts it)' : 'not halted';
  const failed = r.actions.some((a) => a.status === 'failed');
  const verdict = r.ok ? 'Self-heal: nothing left broken'
    : failed ? 'Self-heal: something is still broken (see FAILED)' : 'Self-heal: Kraken refuses for now (rate limit or maintenance); run it again later (see LATER)';
  return [...lines, '', `${verdict}; ${halt}.`].join('\n');
}
