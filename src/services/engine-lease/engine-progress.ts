// Owns what this process's engine is doing between taking the lease and trading, and why it places
// no order once it runs, for the views that must not say "trading" of an engine that waits: the start
// banner and /healthz. The engine feature (app/features/engine.ts) says which step it is in — the
// live approval's withdrawal, the gate policy, the start reconciliation, the warm-up — and gives its
// gate (the lease, reconciliation with Kraken before live). One entry per context (keyed by its job
// registry, as the lease probe is: per-context.ts).
import { perContext, type PerContextKey } from './per-context.js';
import type { BotState } from '../../db/schema/index.js';
import type { Mode } from '../bot-state.js';
import { haltedWhy } from '../../domain/engine-waiting.js';
import { waitWithin } from './wait-within.js';

export interface EngineProgress {
  /** The step the engine waits in before it trades (null once its loop has run a pass). */
  waiting(): string | null;
  /** The engine's own gate: why it places no order now (lease not confirmed, live waiting for reconciliation), or null. */
  gate(state: BotState, mode: Mode): string | null;
  /** Resolves once the engine has run its first pass (it trades), or never. */
  readonly trading: Promise<void>;
}

/** Kept per job registry, which every copy of a context shares (per-context.ts). */
export type EngineProgressDeps = PerContextKey;

const progress = perContext<EngineProgress>();

export function setEngineProgress(ctx: EngineProgressDeps, p: EngineProgress | null): void {
  progress.set(ctx, p);
}

/** This process's engine's progress; undefined when it runs no engine. */
export function engineProgress(ctx: EngineProgressDeps): EngineProgress | undefined {
  return progress.get(ctx);
}

/**
 * Why this process's engine does not trade now, or null when it does: the step it waits in first,
 * then a halt (no order until `ctb resume`), then its gate. Entries paused is not a wait: exits go on
 * (the trading state says reducing). Pure, over what it is given.
 */
export function engineWaitingWhy(p: Pick<EngineProgress, 'waiting' | 'gate'>, state: BotState, mode: Mode): string | null {
  const step = p.waiting();
  if (step !== null) return step;
  if (state.halted) return haltedWhy(state.haltedReason);
  return p.gate(state, mode);
}

/** Waits at most `waitMs` for this process's engine to trade, and not past `stop`; true when it does. */
export async function engineTradingWithin(ctx: EngineProgressDeps, waitMs: number, stop?: AbortSignal): Promise<boolean> {
  const p = progress.get(ctx);
  if (!p) return false;
  return waitWithin(p.trading, waitMs, stop);
}
