// Owns what the engine's lease row says it waits on, for every other process (`ctb mode status`,
// Slack's /mode and /golive status, App Home, a web replica's banner and /healthz): the step the engine
// is in; once it has none, the reason its gate holds orders (live: Kraken not answering its probe, a
// reconciliation after the switch to live), recorded as a gate's with the bot_state version it answered
// on — readers say it only while bot_state is still at that version (domain/engine-waiting.ts) — and
// a null reason with that version when the gate is open or a halt says why (bot_state holds the halt):
// an open gate is true of its bot_state only, so a reader on a later one never says "trading now". The gate is asked on closed
// candles and manual exits, and on every tick of the reconciliation monitor, so a halt, a switch to
// paper or a gate that opens between candles replaces the reason within a tick. Writes go in order,
// never awaited by the engine, and only when what the row says changes: no write per pass.
import type { LeaseWaiting } from '../../db/queries/engine-lease.js';
import type { BotState } from '../../db/schema/index.js';
import type { Mode } from '../bot-state.js';

/** Writes `waiting` to the row; rejects when the database does not take it. */
export type WriteWaiting = (waiting: LeaseWaiting | null) => Promise<unknown>;

/** The bot_state a gate answered on: whether it halts, and its version. */
export interface GateState {
  halted: boolean;
  version: number;
}

export interface WaitingRecord {
  /**
   * The step the engine waits in, recorded as is; null once its loop has run a pass, recorded then as
   * the gate's last answer (`gate`, when it has had one).
   */
  setStep(next: string | null, gate?: { why: string | null; state: GateState }): void;
  /** The step, or null once the engine is past its steps. */
  step(): string | null;
  /**
   * The gate's answer (null: open) on `state`, recorded when no step is and it changes — a reason also
   * when bot_state's version does. An answer on an older bot_state than one already noted is ignored.
   */
  noteGate(why: string | null, state: GateState): void;
  /** Resolves once every write asked so far has been tried. */
  settled(): Promise<void>;
}

/** `first`: the step before anything is written (the row is not this engine's yet). */
export function createWaitingRecord(write: WriteWaiting, onError: (err: unknown) => void, first: string | null = null): WaitingRecord {
  let step: string | null = first;
  // What the row was last asked to say (undefined: nothing yet, or a failed write to be made again).
  let recorded: LeaseWaiting | null | undefined;
  // The newest bot_state version a gate answered on: a slower caller's older answer does not undo it.
  let newest = -Infinity;
  let written = Promise.resolve();
  let asked = 0;
  const record = (value: LeaseWaiting | null) => {
    recorded = value;
    const mine = ++asked;
    // A write that fails is logged; the gate's next answer writes again unless a later write was asked.
    written = written.then(() => write(value).then(() => undefined, (err: unknown) => {
      if (mine === asked) recorded = undefined;
      onError(err);
    }));
  };
  const same = (a: LeaseWaiting | null | undefined, b: LeaseWaiting | null) =>
    a === b || (a != null && b !== null && a.kind === b.kind && a.why === b.why
      && (a.kind === 'step' || (b.kind === 'gate' && a.stateVersion === b.stateVersion)));
  // An open gate is recorded with its version too: a reader on a later bot_state must not take it as open there.
  const gateValue = (why: string | null, state: GateState): LeaseWaiting =>
    ({ kind: 'gate', why: why === null || state.halted ? null : why, stateVersion: state.version });
  return {
    setStep(next, gate) {
      step = next;
      if (gate) newest = Math.max(newest, gate.state.version);
      const value: LeaseWaiting | null = next !== null ? { kind: 'step', why: next } : gate ? gateValue(gate.why, gate.state) : null;
      if (!same(recorded, value)) record(value);
    },
    step: () => step,
    noteGate(why, state) {
      // The engine's hot path (every closed candle): nothing built unless the row must change.
      if (step !== null || state.version < newest) return;
      newest = state.version;
      const said = why === null || state.halted ? null : why;
      if (recorded?.kind === 'gate' && recorded.why === said && recorded.stateVersion === state.version) return;
      record({ kind: 'gate', why: said, stateVersion: state.version });
    },
    settled: () => written,
  };
}

/** The engine's gate (engine/engine.ts asks it before strategies run and before each order) with its answers recorded. */
export interface RecordingGate {
  gate(state: BotState, mode: Mode): string | null;
  /** The newest bot_state it was asked on (and the mode), or null before it was asked. */
  lastAsked(): { state: BotState; mode: Mode } | null;
}

/** `why`'s answer, noted in `waiting` (a write only when what the row says changes) — the hot path costs a compare. */
export function recordingGate(why: (state: BotState, mode: Mode) => string | null, waiting: WaitingRecord): RecordingGate {
  let last: { state: BotState; mode: Mode } | null = null;
  return {
    gate(state, mode) {
      const answer = why(state, mode);
      if (!last || state.version >= last.state.version) last = { state, mode };
      waiting.noteGate(answer, state);
      return answer;
    },
    lastAsked: () => last,
  };
}
