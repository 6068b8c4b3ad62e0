// `golive status`: where the bot stands on the way to live trading — mode, armed, halted, and the
// verdict of the latest go-live audit. Anyone may read.
import { z } from 'zod';
import { readGoLiveStatus, type AuditVerdict, type ModeStatus } from '../src/services/mode-status.js';
import { defineCommand } from './define.js';

export interface GoLiveStatusResult extends ModeStatus {
  ok: true;
  latestAudit: AuditVerdict | null;
}

export const goLiveStatusCommand = defineCommand({
  name: 'golive status',
  summary: 'Show the mode, whether the process is armed or halted, and the latest go-live audit verdict',
  role: 'reader',
  args: z.object({}).strict(),
  async run(ctx): Promise<GoLiveStatusResult> {
    const { status, latestAudit } = await readGoLiveStatus(ctx);
    return { ok: true, ...status, latestAudit };
  },
});
