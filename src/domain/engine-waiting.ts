// Owns the one wording of whether an engine trades yet, for every view that must not say "trading" of
// an engine that waits: "engine waiting: <why>" until its loop's first pass, then "engine trading now".
// The why comes in a fixed order — the step the engine waits in, then a halt, then its gate (live waits
// for reconciliation with Kraken). The start banner and /healthz take this process's own engine's
// (services/engine-lease/engine-progress.ts); `ctb mode status`, Slack's /mode and /golive status and
// App Home take what the holder wrote in its lease row (migrations 0040, 0042), read with bot_state: its
// step, and once it has none and is not halted, its gate's reason while the gate holds orders (Kraken not
// answering its probe, a reconciliation after a switch to live), written when that answer changes — said
// only while bot_state is at the version the gate answered on: a reason from before a halt, a switch or
// any later change of bot_state is never shown.

export const ENGINE_TRADING_NOW = 'engine trading now';

/** The first step an engine's lease row names, from the moment it is taken. */
export const ENGINE_START_STEP = "the engine's start";

/** "engine waiting: <why>". */
export function engineWaitingPhrase(why: string): string {
  return `engine waiting: ${why}`;
}

/** What a running engine does: waiting and why, or trading now (why null). */
export function engineProgressPhrase(why: string | null): string {
  return why === null ? ENGINE_TRADING_NOW : engineWaitingPhrase(why);
}

/** A halted engine's why: it places no order until an operator resumes it. */
export function haltedWhy(haltedReason: string | null): string {
  return `halted${haltedReason ? ` (${haltedReason.slice(0, 80)})` : ''}: no orders until \`ctb resume\``;
}

/** The engine's gate while live waits for a passing reconciliation with Kraken (`status`: where it stands). */
export function liveReconciliationWhy(status: string): string {
  return `live trading waits for reconciliation with Kraken (${status})`;
}

/** A gate's reason recorded on an older bot_state: the engine has not yet said what its gate answers now. */
export const GATE_NOT_RECORDED_WHY = "its gate's answer since bot_state last changed is not recorded yet";

export interface HolderWaitingFacts {
  /** The lease holder (domain/engine-holder.ts): running, stale or none, and the step (or gate's reason) its row names. */
  engine: { state: 'running' | 'stale' | 'none'; waiting: string | null; waitingKind: 'step' | 'gate' | null; waitingStateVersion: number | null; renewalOverdue?: boolean };
  /** bot_state's version as read with the lease row. */
  stateVersion: number;
  /** The engine's mode (domain/engine-mode.ts): live only when the running holder is armed, the database live, nothing halting it. */
  mode: string;
  halted: boolean;
  haltedReason: string | null;
  reconciliation: { blocked: boolean };
}

/**
 * Why the lease holder's engine does not trade now, as another process can tell it: the step its lease
 * row names, then a halt, then live blocked by reconciliation, then its gate's reason when the gate
 * answered on this very bot_state (one from an older bot_state is not said: that its answer since is
 * not recorded yet is — an open gate's answer too); null when it trades. Undefined when no engine runs (none, or a stale lease)
 * or its holder's renewal is overdue: nothing to say of an engine's progress.
 */
export function holderWaitingWhy(f: HolderWaitingFacts): string | null | undefined {
  const e = f.engine;
  // A holder whose renewal is overdue may have stopped: nothing is said of its engine (domain/engine-holder.ts says why).
  if (e.state !== 'running' || e.renewalOverdue === true) return undefined;
  if (e.waiting && e.waitingKind !== 'gate') return e.waiting;
  if (f.halted) return haltedWhy(f.haltedReason);
  if (f.mode === 'live' && f.reconciliation.blocked) return liveReconciliationWhy('blocked');
  // The gate's answer, open (null) or not, is true only of the bot_state it was given on.
  if (e.waitingKind === 'gate' && e.waitingStateVersion !== f.stateVersion) return GATE_NOT_RECORDED_WHY;
  return e.waiting ?? null;
}

/** What another process can say of the lease holder's engine: waiting and why, or trading now. Undefined when no engine runs. */
export function holderProgressPhrase(f: HolderWaitingFacts): string | undefined {
  const why = holderWaitingWhy(f);
  return why === undefined ? undefined : engineProgressPhrase(why);
}
