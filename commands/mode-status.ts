// `mode status`: the engine's mode, as stored in bot_state and as the process is armed. Anyone may read.
import { z } from 'zod';
import { readModeStatus, type ModeStatus } from '../src/services/mode-status.js';
import { defineCommand } from './define.js';

export interface ModeStatusResult extends ModeStatus {
  ok: true;
}

export const modeStatusCommand = defineCommand({
  name: 'mode-status',
  summary: 'Show the trading mode (paper/live), whether the process is armed, and whether the engine is halted',
  role: 'reader',
  args: z.object({}).strict(),
  async run(ctx): Promise<ModeStatusResult> {
    return { ok: true, ...(await readModeStatus(ctx)) };
  },
});
