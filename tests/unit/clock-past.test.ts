// clockPast: what is stamped after it lies in a later millisecond than the one given — a ManualClock
// is moved on at once, any other clock is waited for until it turns.
import { describe, expect, it } from 'vitest';
import { ManualClock, clockPast, type Clock } from '../../src/clock.js';

describe('clockPast', () => {
  it('moves a manual clock (a replay\'s market clock) to the next millisecond when it reads the given one', async () => {
    const clock = new ManualClock('2026-01-05T00:01:00.000Z');
    await clockPast(clock, clock.now().getTime());
    expect(clock.now().toISOString()).toBe('2026-01-05T00:01:00.001Z');
    // Already past: left alone.
    await clockPast(clock, Date.parse('2026-01-05T00:00:00Z'));
    expect(clock.now().toISOString()).toBe('2026-01-05T00:01:00.001Z');
  });

  it('waits for another clock to turn, without moving it', async () => {
    // A clock that keeps reading the tie's millisecond for its first reads, as a fast real clock does.
    let reads = 0;
    const tie = Date.parse('2026-01-05T00:01:00.000Z');
    const clock: Clock = { now: () => new Date(tie + (++reads > 5 ? 1 : 0)) };
    await clockPast(clock, tie);
    expect(reads).toBeGreaterThan(5);
    expect(clock.now().getTime()).toBeGreaterThan(tie);
  });
});
