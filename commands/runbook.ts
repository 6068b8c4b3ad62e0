// `ctb runbook go-live|incident` and `/golive help`: the procedure filled in from the running
// configuration — people, channels, on-call, SLAs, thresholds, and the checks failing right now.
import { z } from 'zod';
import { collectRunbookData } from '../src/services/runbook/collect.js';
import { renderRunbook, RUNBOOKS, type RunbookData, type RunbookName } from '../src/domain/runbook/index.js';
import { defineCommand } from './define.js';

export interface RunbookResult {
  ok: true;
  name: RunbookName;
  /** The runbook as Markdown (what the terminal prints). */
  text: string;
  /** The facts it was filled in with (Slack renders its own view from these). */
  data: RunbookData;
}

export const runbookCommand = defineCommand({
  name: 'runbook',
  summary: 'print the go-live or incident runbook filled in from the running configuration',
  role: 'reader',
  args: z.object({
    name: z.enum(RUNBOOKS, { error: `expected one of ${RUNBOOKS.join(', ')}` }),
  }),
  async run(ctx, args): Promise<RunbookResult> {
    const data = await collectRunbookData(ctx);
    return { ok: true, name: args.name, text: renderRunbook(args.name, data), data };
  },
});
