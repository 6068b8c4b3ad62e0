// /unpause [force <reason>] and `ctb unpause [--force --reason …]`: resume new entries. After a
// risk-guard pause it names the breach and needs it cleared, or force with a reason (recorded).
import { z } from 'zod';
import { cleanReason, unpauseEntries, type UnpauseResult } from '../src/services/entries-pause.js';
import { defineCommand } from './define.js';

export const unpauseCommand = defineCommand({
  name: 'unpause',
  summary: 'resume new entries (after a risk-guard pause: once the breach cleared, or with force and a reason)',
  role: 'operator',
  args: z.object({ force: z.boolean().optional().default(false), reason: z.string().optional() }).strict(),
  run: (ctx, args): Promise<UnpauseResult> => unpauseEntries(ctx, ctx.actor, { force: args.force, reason: cleanReason(args.reason) }),
});
