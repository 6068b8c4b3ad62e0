// /pause [reason] and `ctb pause [--reason …]`: stop new entries at once (trading state `reducing`);
// exits and stop-losses continue. One operator, no approvals; a second pause changes nothing.
import { z } from 'zod';
import { cleanReason, pauseByOperator, type OperatorPauseResult } from '../src/services/entries-pause.js';
import { defineCommand } from './define.js';

export const pauseCommand = defineCommand({
  name: 'pause',
  summary: 'pause new entries now (trading state reducing): exits and stop-losses continue',
  role: 'operator',
  args: z.object({ reason: z.string().optional() }).strict(),
  run: (ctx, args): Promise<OperatorPauseResult> => pauseByOperator(ctx, ctx.actor, cleanReason(args.reason)),
});
