// Owns which SLACK_APPROVERS and alert channels the audit's approvers and alerting checks judge: the
// engine's, as its process recorded them with the gate policy when it took the engine lease — a shell
// may list approvers and alert channels the engine does not have — else, before any engine recorded
// them, this process's own. (The log checks judge the engine's published log scan: engine-logs.ts.)
import type { Config } from '../../../config/env.js';
import { configuredAlertChannels } from '../gate-policy.js';
import type { AuditContext } from '../types.js';

type Ctx = Pick<AuditContext, 'config'> & { engineLimits?: AuditContext['engineLimits'] };

export interface Judged<T> {
  value: T;
  source: 'engine' | 'process';
  /** Whose value it is, as an operator reads it: "the engine's process h:1 (worker), recorded at …". */
  from: string;
}

function judged<T>(ctx: { engineLimits?: AuditContext['engineLimits'] }, recorded: T | undefined, mine: () => T): Judged<T> {
  const r = ctx.engineLimits ?? null;
  if (r && recorded !== undefined) {
    return { value: recorded, source: 'engine', from: `the engine's process ${r.recordedBy}, recorded at ${r.recordedAt.toISOString()}` };
  }
  return { value: mine(), source: 'process', from: "this process's (no engine has recorded it in this database yet)" };
}

/**
 * Whose SLACK_APPROVERS count — the audit's and the live switch's alike (mode/live-approvers.ts) —
 * each person once: a list an older engine recorded may name someone twice (the setting refuses that
 * now), and one person is one approver however often listed.
 */
export function judgedApprovers(ctx: { config: Pick<Config, 'SLACK_APPROVERS'>; engineLimits?: AuditContext['engineLimits'] }): Judged<string[]> {
  const list = judged(ctx, ctx.engineLimits?.limits.slackApprovers, () => [...ctx.config.SLACK_APPROVERS]);
  return { ...list, value: [...new Set(list.value)] };
}

export function judgedAlertChannels(ctx: Ctx): Judged<{ slack: string | null; email: string[] | null }> {
  return judged(ctx, ctx.engineLimits?.limits.alertChannels, () => configuredAlertChannels(ctx.config));
}

/** Whose TRADING_PAIRS the trading-pairs check judges: the pairs the engine trades, as its process recorded them. */
export function judgedTradingPairs(ctx: Ctx): Judged<string[]> {
  return judged(ctx, ctx.engineLimits?.limits.tradingPairs, () => [...ctx.config.TRADING_PAIRS]);
}
