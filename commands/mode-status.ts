// `mode status`: the engine's mode, as stored in bot_state and as the process is armed, and the live
// request waiting for approvals, if any. Anyone may read.
import { z } from 'zod';
import { readModeStatus, type ModeStatus } from '../src/services/mode-status.js';
import { APPROVALS_NEEDED } from '../src/services/mode/records.js';
import { findOpenRequest, standingApprovals } from '../src/db/queries/mode-change.js';
import { defineCommand } from './define.js';

export interface OpenModeRequest {
  id: number;
  toMode: 'paper' | 'live';
  requester: string;
  createdAt: Date;
  expiresAt: Date;
  approvals: number;
  approvalsNeeded: number;
  message: { channel: string; ts: string } | null;
}

export interface ModeStatusResult extends ModeStatus {
  ok: true;
  openRequest: OpenModeRequest | null;
}

export const modeStatusCommand = defineCommand({
  name: 'mode status',
  summary: 'Show the trading mode (paper/live), whether the process is armed, whether the engine is halted, and any open live request',
  role: 'reader',
  args: z.object({}).strict(),
  async run(ctx): Promise<ModeStatusResult> {
    const status = await readModeStatus(ctx);
    const open = await findOpenRequest(ctx.db);
    const openRequest: OpenModeRequest | null = open
      ? {
          id: open.id, toMode: open.toMode, requester: open.requester, createdAt: open.createdAt, expiresAt: open.expiresAt,
          approvals: (await standingApprovals(ctx.db, open, ctx.config.SLACK_APPROVERS)).length, approvalsNeeded: APPROVALS_NEEDED,
          message: open.slackChannel && open.slackTs ? { channel: open.slackChannel, ts: open.slackTs } : null,
        }
      : null;
    return { ok: true, ...status, openRequest };
  },
});
