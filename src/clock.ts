// Time comes from an injected clock so tests can move it (expiry, escalation, daily limits).
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

export class ManualClock implements Clock {
  #ms: number;
  constructor(start: Date | string = '2026-01-05T12:00:00Z') {
    this.#ms = new Date(start).getTime();
  }
  now(): Date {
    return new Date(this.#ms);
  }
  set(at: Date | string): void {
    this.#ms = new Date(at).getTime();
  }
  advance(ms: number): Date {
    this.#ms += ms;
    return this.now();
  }
}

/**
 * Resolves once `clock` reads later than `ms`, so what is stamped next lies in a later millisecond:
 * a ManualClock (a replay's market clock, a test's) is moved on to `ms + 1` at once; any other clock
 * is waited for — a real clock turns within a millisecond, and this is asked only on a tie.
 */
export async function clockPast(clock: Clock, ms: number): Promise<void> {
  if (clock.now().getTime() > ms) return;
  if (clock instanceof ManualClock) {
    clock.set(new Date(ms + 1));
    return;
  }
  while (clock.now().getTime() <= ms) await new Promise((resolve) => setTimeout(resolve, 1));
}
