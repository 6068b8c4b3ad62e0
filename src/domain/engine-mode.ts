// Owns the engine's mode as an operator needs it, from bot_state and the engine lease: live while a
// running engine is armed, the database says live and nothing halts it; unknown while the lease is
// stale and its holder was armed with the database saying live and nothing halting it — a stale lease
// is not a dead engine (renewLease renews by holder id), so a hung holder that wakes before another
// takes the lease over trades LIVE again; paper otherwise (nothing can trade live). bot_state.mode
// itself stays paper | live: "unknown" is what is known of the engine, never a mode to ask for.

/**
 * What of the engine lease's holder (engine-holder.ts's EngineHolderView) the mode is read from: named
 * here, not imported, since that view's phrases are worded by this rule.
 */
export interface EngineHolderFacts {
  state: 'running' | 'stale' | 'none';
  armed: boolean;
}

/** The mode bot_state asks for. */
export type StoredMode = 'paper' | 'live';

/** What the engine trades in: unknown when a stale armed holder may resume LIVE trading if it wakes. */
export type EngineMode = StoredMode | 'unknown';

/** What a process armed so trades in: live only when armed, bot_state says live and nothing halts it. */
export function effectiveMode(state: { mode: StoredMode; halted: boolean }, armed: boolean): StoredMode {
  return armed && state.mode === 'live' && !state.halted ? 'live' : 'paper';
}

export function engineMode(state: { mode: StoredMode; halted: boolean }, engine: EngineHolderFacts): EngineMode {
  if (engine.state === 'none' || effectiveMode(state, engine.armed) === 'paper') return 'paper';
  return engine.state === 'running' ? 'live' : 'unknown';
}

/**
 * The book the lease holder trades once nothing halts it: paper while it runs (or hangs) without
 * IS_LIVE, whatever was approved — live when it is armed and bot_state says live (a stale one trades it
 * again if it wakes); with no holder, the one bot_state asks for (the next engine's arming is not known).
 */
export function holderBook(state: { mode: StoredMode }, engine: EngineHolderFacts): StoredMode {
  return engine.state === 'none' ? state.mode : effectiveMode({ mode: state.mode, halted: false }, engine.armed);
}

/**
 * The lease holder's arming, running or stale (a stale holder trades again if it wakes, with its own
 * IS_LIVE); false when no engine holds the lease. What `ctb mode status --json`, /healthz and the
 * status views call `armed`.
 */
export function holderArmed(engine: EngineHolderFacts): boolean {
  return engine.state !== 'none' && engine.armed;
}

/**
 * Whether a decision that guards live trading must treat the engine as trading live: live, and
 * unknown too — a holder that may wake and trade LIVE is never taken for paper.
 */
export function mayTradeLive(mode: EngineMode): boolean {
  return mode !== 'paper';
}

/**
 * Why the mode is unknown, in operator words, with what cancels from anywhere (`kill`: the surface's
 * own command, `ctb kill` or `/kill`): "the engine (worker-1:4242) stopped renewing its lease at …".
 */
export function unknownModePhrase(engine: { host: string | null; pid: number | null; heartbeatAt: string | null; staleSince: string | null }, kill = '`ctb kill`'): string {
  return `the engine (${engine.host}:${engine.pid}) stopped renewing its lease at ${engine.heartbeatAt} (stale since ${engine.staleSince}); `
    + `it was armed and the database says live: it may resume LIVE trading if it wakes; ${kill} cancels from any process`;
}
