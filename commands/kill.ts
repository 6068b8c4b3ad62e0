// /kill [reason] and `ctb kill [--reason …] [--flatten]`: cancel every open order first, confirm,
// halt in paper, alert, open the incident checklist. One operator, no approvals (invariant 3).
import { z } from 'zod';
import { executeKill, type KillResult } from '../src/services/kill/kill.js';

/** The terminal prints it while a kill without the Kraken key looks for the bot that has it. */
export { NO_KEY_LOOKING } from '../src/domain/kraken-handoff.js';
import { defineCommand } from './define.js';

/** The longest reason stored with a kill (the incident, the alert, bot_state). */
export const REASON_MAX = 500;

export const killArgs = z.object({
  // A kill is never refused over its reason: a long one is cut to REASON_MAX characters, not rejected.
  reason: z.string().trim().optional().default('').transform((r) => (r.length > REASON_MAX ? `${r.slice(0, REASON_MAX - 1)}…` : r)),
  flatten: z.boolean().optional().default(false),
});

export const killCommand = defineCommand({
  name: 'kill',
  summary: 'cancel every open order, halt trading in paper mode and open the incident checklist',
  role: 'operator',
  args: killArgs,
  run: (ctx, args): Promise<KillResult> =>
    executeKill(ctx, { actor: ctx.actor, reason: args.reason, trigger: 'manual', flatten: args.flatten }),
});
