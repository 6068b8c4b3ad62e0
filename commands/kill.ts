// /kill [reason] and `ctb kill [--reason …] [--flatten]`: cancel every open order first, confirm,
// halt in paper, alert, open the incident checklist. One operator, no approvals (invariant 3).
import { z } from 'zod';
import { executeKill, type KillResult } from '../src/services/kill/kill.js';
import { defineCommand } from './define.js';

export const killArgs = z.object({
  reason: z.string().trim().max(500, 'expected a reason of at most 500 characters').optional().default(''),
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
