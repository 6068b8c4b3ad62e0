// The operator commands of the mode switch: `mode live` opens a two-approver change request (Slack
// only), `mode paper` rolls back at once, `mode status` and `mode history` read the sign-off record.
import { z } from 'zod';
import type { Config } from '../src/config/env.js';
import { openLiveRequest, terminalLiveRefusal } from '../src/services/mode/open-live-request.js';
import { modeHistory, modeStatus, type ModeStatus, type SignOffRecord } from '../src/services/mode/sign-off.js';
import { switchToPaper } from '../src/services/mode/switch-to-paper.js';
import type { GoLiveAuditResult } from '../src/services/mode/ports.js';
import { defineCommand } from './define.js';

const reason = z
  .string()
  .trim()
  .max(500, 'a reason of at most 500 characters')
  .optional()
  .transform((v) => (v === '' ? undefined : v));

export interface ModeLiveResult {
  ok: boolean;
  opened: boolean;
  requestId: number | null;
  expiresAt: string | null;
  message: { channel: string; ts: string } | null;
  approvers: string[];
  audit: GoLiveAuditResult;
}

/**
 * `ctb mode live` when its database did not open: refused all the same (going live is asked in Slack
 * whatever the state), saying why the usual hint (what /mode live would be refused for now) is missing.
 */
export function modeLiveRefusedWithoutDatabase(config: Pick<Config, 'APPROVAL_EMOJI'>): Error {
  return terminalLiveRefusal(config, ' Whether /mode live would be refused there now could not be read: the database did not open (ctb mode status says why).');
}

export const modeLiveCommand = defineCommand({
  name: 'mode live',
  summary: 'request the switch to live trading (two approvers react in Slack)',
  role: 'operator',
  args: z.object({ reason }).strict(),
  async run(ctx, args): Promise<ModeLiveResult> {
    const result = await openLiveRequest(ctx, ctx.liveSwitch, { actor: ctx.actor, reason: args.reason });
    if (!result.opened) return { ok: false, opened: false, requestId: null, expiresAt: null, message: null, approvers: [], audit: result.audit };
    const r = result.request;
    return {
      ok: true, opened: true, requestId: r.id, expiresAt: r.expiresAt.toISOString(),
      message: r.slackChannel && r.slackTs ? { channel: r.slackChannel, ts: r.slackTs } : null,
      approvers: result.approvers, audit: result.audit,
    };
  },
});

export interface ModePaperResult {
  ok: true;
  changed: boolean;
  previousMode: 'paper' | 'live';
  requestId: number | null;
  withdrawnRequests: number[];
}

export const modePaperCommand = defineCommand({
  name: 'mode paper',
  summary: 'switch to paper trading now (one operator, no approval)',
  role: 'operator',
  args: z.object({ reason }).strict(),
  async run(ctx, args): Promise<ModePaperResult> {
    const r = await switchToPaper(ctx, ctx.liveSwitch, { actor: ctx.actor, reason: args.reason });
    return { ok: true, changed: r.changed, previousMode: r.previousMode, requestId: r.request?.id ?? null, withdrawnRequests: r.withdrawn };
  },
});

export type ModeStatusResult = { ok: true } & ModeStatus;

export const modeStatusCommand = defineCommand({
  name: 'mode status',
  summary: 'the current mode, whether the process is armed, and any open change request',
  role: 'reader',
  args: z.object({}).strict(),
  async run(ctx): Promise<ModeStatusResult> {
    return { ok: true, ...(await modeStatus(ctx)) };
  },
});

export interface ModeHistoryResult {
  ok: true;
  records: SignOffRecord[];
}

export const modeHistoryCommand = defineCommand({
  name: 'mode history',
  summary: 'the sign-off record of every mode change, newest first',
  role: 'reader',
  args: z
    .object({
      limit: z.coerce.number({ error: 'a whole number from 1 to 500' }).int('a whole number').min(1, 'at least 1').max(500, 'at most 500').default(20),
      id: z.coerce.number({ error: 'a request id such as 12' }).int('a whole number').positive('a request id such as 12').optional(),
    })
    .strict(),
  async run(ctx, args): Promise<ModeHistoryResult> {
    return { ok: true, records: await modeHistory(ctx, { limit: args.limit, id: args.id }) };
  },
});
