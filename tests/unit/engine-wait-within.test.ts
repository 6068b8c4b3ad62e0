// The start banner's waits on the engine (its first try for the lease, its first pass) end on the
// bot's stop signal: the engine's loop ends on it too and would never answer them, and a stop just
// after the engine took its lease waited the full 5 s for a pass that never came.
import { describe, expect, it } from 'vitest';
import { waitWithin } from '../../src/services/engine-lease/wait-within.js';

/** Longer than any test may run: a wait that ends did not end by its bound. */
const AN_HOUR_MS = 3_600_000;
const never = new Promise<void>(() => {});

describe('waitWithin (the start banner\'s waits on the engine)', () => {
  it('ends, false, when the stop signal comes during the wait', async () => {
    const stop = new AbortController();
    const waiting = waitWithin(never, AN_HOUR_MS, stop.signal);
    stop.abort();
    expect(await waiting).toBe(false);
  });

  it('does not wait at all when the stop came before it', async () => {
    const stop = new AbortController();
    stop.abort();
    expect(await waitWithin(never, AN_HOUR_MS, stop.signal)).toBe(false);
  });

  it('is true when the event comes first, and false at its bound without a stop', async () => {
    expect(await waitWithin(Promise.resolve(), AN_HOUR_MS, new AbortController().signal)).toBe(true);
    expect(await waitWithin(never, 1)).toBe(false);
  });
});
