// Owns what the engine's lease row says it waits on, for every other process (`ctb mode status`,
// Slack's /mode and /golive status, App Home, a web replica's banner and /healthz): the step the engine
// is in; once it has none, the reason its gate holds orders (live: Kraken not answering its probe, a
// reconciliation after the switch to live), null when the gate is open or a halt says why (bot_state
// holds the halt, and readers say it after the step: domain/engine-waiting.ts). Writes go in order,
// never awaited by the engine, and only when what the row says changes: no write per pass.

/** Writes `waiting` to the row; rejects when the database does not take it. */
export type WriteWaiting = (waiting: string | null) => Promise<unknown>;

export interface WaitingRecord {
  /**
   * The step the engine waits in, recorded as is; null once its loop has run a pass, recorded then as
   * the gate's last answer (`gate`, when it has had one).
   */
  setStep(next: string | null, gate?: { why: string | null; halted: boolean }): void;
  /** The step, or null once the engine is past its steps. */
  step(): string | null;
  /** The gate's answer the engine just had (null: open) and whether it is halted; recorded when no step is and it changes. */
  noteGate(why: string | null, halted: boolean): void;
  /** Resolves once every write asked so far has been tried. */
  settled(): Promise<void>;
}

/** `first`: the step before anything is written (the row is not this engine's yet). */
export function createWaitingRecord(write: WriteWaiting, onError: (err: unknown) => void, first: string | null = null): WaitingRecord {
  let step: string | null = first;
  // What the row was last asked to say; undefined before any write.
  let recorded: string | null | undefined;
  let written = Promise.resolve();
  let asked = 0;
  const record = (value: string | null) => {
    recorded = value;
    const mine = ++asked;
    // A write that fails is logged; the gate's next answer writes again unless a later write was asked.
    written = written.then(() => write(value).then(() => undefined, (err: unknown) => {
      if (mine === asked) recorded = undefined;
      onError(err);
    }));
  };
  return {
    setStep(next, gate) {
      step = next;
      const value = next ?? (gate && !gate.halted ? gate.why : null);
      if (value !== recorded) record(value);
    },
    step: () => step,
    noteGate(why, halted) {
      if (step !== null) return;
      const value = halted ? null : why;
      if (value !== recorded) record(value);
    },
    settled: () => written,
  };
}
