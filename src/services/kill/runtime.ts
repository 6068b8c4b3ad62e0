// Owns the kill switch's in-process state: the halt latch and the hooks other areas plug in.
// The latch is set the moment a kill starts (before any database access), so the engine and the
// trading jobs of this process stop even when the halt cannot be written yet. One runtime per
// AppContext (keyed by its job registry, which every copy of the context shares).
import type { AppContext } from '../../app/context.js';
import type { Incident, IncidentChecklistItem } from '../../db/schema/index.js';

export interface FlattenOutcome {
  ok: boolean;
  summary: string;
  details?: Record<string, unknown>;
}

// Flatten and reconcile are not hooks: they are the context's incident ports (incident-ports.ts),
// built for every process, so no process records them as done without doing them.
export interface KillHooks {
  /** Posts the incident thread with its checklist buttons (Slack). */
  onIncidentOpened?: (incident: Incident, items: IncidentChecklistItem[]) => Promise<void>;
}

export interface KillRuntime {
  latched: boolean;
  latchReason: string | null;
  hooks: KillHooks;
  /** Called when this process learns of a halt (its own kill, or another process's). */
  onHalt: Set<(reason: string) => void>;
}

const runtimes = new WeakMap<object, KillRuntime>();

export function killRuntime(ctx: Pick<AppContext, 'jobs'>): KillRuntime {
  let rt = runtimes.get(ctx.jobs);
  if (!rt) {
    rt = { latched: false, latchReason: null, hooks: {}, onHalt: new Set() };
    runtimes.set(ctx.jobs, rt);
  }
  return rt;
}

export function setKillHooks(ctx: Pick<AppContext, 'jobs'>, hooks: KillHooks): void {
  Object.assign(killRuntime(ctx).hooks, hooks);
}

export const KILL_PAUSE_PREFIX = 'kill: ';

/** Stops this process trading at once: latch, pause the trading jobs, tell listeners (the engine). */
export function latchHalt(ctx: Pick<AppContext, 'jobs' | 'logger'>, reason: string): void {
  const rt = killRuntime(ctx);
  const first = !rt.latched;
  rt.latched = true;
  rt.latchReason = reason;
  ctx.jobs.pauseTrading(`${KILL_PAUSE_PREFIX}${reason}`);
  if (!first) return;
  for (const listener of rt.onHalt) {
    try {
      listener(reason);
    } catch (err) {
      ctx.logger.error({ err }, 'a halt listener failed');
    }
  }
}

/** After a resume: clears the latch and resumes the trading jobs this kill paused. */
export function releaseHalt(ctx: Pick<AppContext, 'jobs'>): void {
  const rt = killRuntime(ctx);
  rt.latched = false;
  rt.latchReason = null;
  if (ctx.jobs.tradingPaused?.startsWith(KILL_PAUSE_PREFIX)) ctx.jobs.resumeTrading();
}

/** For the engine: true when this process must not place orders (a kill is latched). */
export function isHaltLatched(ctx: Pick<AppContext, 'jobs'>): boolean {
  return killRuntime(ctx).latched;
}
