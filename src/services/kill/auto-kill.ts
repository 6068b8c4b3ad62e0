// Owns the automatic kill (AUTO_KILL: on, off, or live = on while IS_LIVE=true, the default): a
// drawdown past RISK_HARD_DRAWDOWN_PCT (the risk guard's onHardBreach) or a critical alert left
// unacknowledged past its deadline (the escalation's overdue signal) runs the same kill an operator
// would, as a system actor. Each cause is keyed (the breach, the alert group), so a repeated signal
// joins its kill instead of doing it again. With auto-kill off, the signal is logged and alerted only.
import { ALERTED } from '../../alerts/log-source.js';
import type { AlertSink } from '../../alerts/types.js';
import type { OverdueCritical } from '../../alerts/overdue.js';
import type { RiskBreach } from '../../engine/risk-guard.js';
import { executeKill, type KillDeps, type KillResult } from './kill.js';
import { isHaltLatched } from './runtime.js';

/** An automatic kill runs the operator's kill; the overdue signal comes from this process's alert sink. */
export type AutoKillDeps = KillDeps & { alerts: Pick<AlertSink, 'raise' | 'onOverdueCritical'> };

async function autoKill(ctx: AutoKillDeps, p: { actor: string; key: string; reason: string }): Promise<KillResult | null> {
  if (!ctx.config.autoKill) {
    ctx.logger.warn({ reason: p.reason }, `auto-kill is off (AUTO_KILL=${ctx.config.AUTO_KILL}): not killing for: ${p.reason}`);
    return null;
  }
  // The kill it runs raises the alert for this event.
  ctx.logger.error({ ...ALERTED, reason: p.reason }, `auto-kill: ${p.reason}`);
  return executeKill(ctx, { actor: { id: p.actor, source: 'system', requestId: p.key }, reason: `auto-kill: ${p.reason}`, trigger: 'auto' });
}

export function autoKillOnHardBreach(ctx: AutoKillDeps, breach: RiskBreach): Promise<KillResult | null> {
  return autoKill(ctx, {
    actor: 'system:risk-guard',
    key: `hard-breach:${breach.mode}:${breach.at.toISOString()}`,
    reason: `drawdown ${breach.valuePct.toFixed(2)}% passed the hard limit ${breach.thresholdPct}% (${breach.mode})`,
  });
}

export function autoKillOnOverdueCritical(ctx: AutoKillDeps, alert: Pick<OverdueCritical, 'groupId' | 'title' | 'source' | 'overdueAt' | 'test'>): Promise<KillResult | null> {
  // The kill's own alert going unanswered must not kill again; nor anything once halted here.
  if (alert.source === 'kill' || isHaltLatched(ctx)) return Promise.resolve(null);
  // A rehearsal (`ctb alerts test --severity critical`) left unanswered is a drill, not an incident.
  if (alert.test || alert.source === 'test') {
    ctx.logger.info({ groupId: alert.groupId }, 'auto-kill: a test alert is never a reason to kill');
    return Promise.resolve(null);
  }
  return autoKill(ctx, {
    actor: 'system:escalation',
    key: `overdue-critical:${alert.groupId}`,
    reason: `critical alert "${alert.title}" unacknowledged past its deadline (${alert.overdueAt.toISOString()})`,
  });
}

/** The engine's onHardBreach hook (src/app/features.ts wires it). */
export async function killOnHardBreach(ctx: AutoKillDeps, breach: RiskBreach): Promise<void> {
  await autoKillOnHardBreach(ctx, breach);
}

/** Subscribes the overdue-critical signal of this process's alert sink; returns the unsubscribe. */
export function subscribeAutoKill(ctx: AutoKillDeps): () => void {
  const unsubscribe = ctx.alerts.onOverdueCritical?.((alert) => autoKillOnOverdueCritical(ctx, alert).then(() => undefined));
  return unsubscribe ?? (() => {});
}
