// `ctb resume` (and /mode resume): lifts a halt after a passing audit and a done checklist; stays in paper.
import { z } from 'zod';
import { resumeAfterHalt } from '../src/services/kill/resume.js';
import { defineCommand } from './define.js';

export const resumeCommand = defineCommand({
  name: 'resume',
  summary: 'lift a halt (needs a passing audit since the halt and a done incident checklist); stays in paper',
  role: 'operator',
  args: z.object({}),
  run: (ctx) => resumeAfterHalt(ctx, ctx.actor),
});
