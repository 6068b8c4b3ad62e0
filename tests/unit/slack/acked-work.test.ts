// The queue behind acked Slack requests: starts work after the current I/O phase, a few at a time,
// in arrival order; a slow item gives its slot back after its lease; a failing item reaches onError
// and does not stop the queue; an item older than its staleness allows when its turn comes is dropped,
// on the queue's clock, and the work is given its age to ask again.
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/clock.js';
import { AckedWork } from '../../../src/slack/acked-work.js';

const tick = () => new Promise((r) => setImmediate(r));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Waits for `cond` (checked every millisecond), not for a guessed margin: a loaded machine runs timers late. */
async function until(cond: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(1);
  }
}

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('AckedWork', () => {
  it('starts nothing synchronously, then at most `concurrency` items, in arrival order', async () => {
    const started: number[] = [];
    const gates = Array.from({ length: 5 }, deferred);
    const q = new AckedWork({ concurrency: 2, leaseMs: 60_000, limit: 1_000, onError: () => {} });
    gates.forEach((g, i) => q.run(async () => { started.push(i); await g.promise; }));
    expect(started).toEqual([]);
    await tick();
    expect(started).toEqual([0, 1]);
    expect(q.waiting).toBe(3);
    gates[1]!.resolve();
    await tick(); await tick();
    expect(started).toEqual([0, 1, 2]);
    gates[0]!.resolve(); gates[2]!.resolve();
    await tick(); await tick();
    expect(started).toEqual([0, 1, 2, 3, 4]);
    gates[3]!.resolve(); gates[4]!.resolve();
  });

  it('gives a slow item\'s slot to the next one after the lease, without cancelling it', async () => {
    const events: string[] = [];
    const slow = deferred();
    const q = new AckedWork({ concurrency: 1, leaseMs: 30, limit: 1_000, onError: () => {} });
    const queuedAt = performance.now();
    let nextAt = 0;
    q.run(async () => { events.push('slow start'); await slow.promise; events.push('slow end'); });
    q.run(async () => { nextAt = performance.now(); events.push('next'); });
    await tick();
    expect(events).toEqual(['slow start']);
    await until(() => events.includes('next'), 'the next item to start');
    // Not before the slow item's lease ran out (a timer may round down by a millisecond), and the slow one goes on.
    expect(nextAt - queuedAt).toBeGreaterThanOrEqual(29);
    expect(events).toEqual(['slow start', 'next']);
    slow.resolve();
    await tick();
    expect(events).toEqual(['slow start', 'next', 'slow end']);
  });

  it('reports a failing item and keeps going', async () => {
    const errors: unknown[] = [];
    const done: string[] = [];
    const q = new AckedWork({ concurrency: 1, leaseMs: 60_000, limit: 1_000, onError: (e) => errors.push(e) });
    q.run(async () => { throw new Error('boom'); });
    q.run(async () => { done.push('after'); });
    await until(() => done.length > 0, 'the item after the failing one');
    expect((errors[0] as Error).message).toBe('boom');
    expect(done).toEqual(['after']);
  });

  it('is full once `limit` items are pending — waiting, or started and not finished, past its lease too — and has room again as one finishes', async () => {
    const gates = Array.from({ length: 3 }, deferred);
    const q = new AckedWork({ concurrency: 1, leaseMs: 1, limit: 3, onError: () => {} });
    gates.forEach((g) => q.run(() => g.promise));
    expect(q.full).toBe(true);
    // Every item started (the lease freed each slot), none finished: still pending, still full.
    await until(() => q.waiting === 0, 'every item to start');
    expect(q).toMatchObject({ pending: 3, full: true });
    gates[0]!.resolve();
    await until(() => q.pending === 2, 'the first item to finish');
    expect(q.full).toBe(false);
    gates[1]!.resolve(); gates[2]!.resolve();
  });

  it('drops an item older than its staleness allows when its turn comes — no slot taken — and starts the rest, however old', async () => {
    const clock = new ManualClock();
    const events: string[] = [];
    const first = deferred();
    const q = new AckedWork({ concurrency: 1, leaseMs: 600_000, limit: 1_000, onError: () => {}, clock });
    q.run(async () => { events.push('first'); await first.promise; });
    q.run(async () => { events.push('stale ran'); }, { afterMs: 60_000, drop: (age) => { events.push(`dropped at ${age}`); } });
    q.run(async () => { events.push('fresh enough'); }, { afterMs: 120_000, drop: () => { events.push('fresh enough dropped'); } });
    q.run(async () => { events.push('never stale'); });
    await tick();
    expect(events).toEqual(['first']);
    clock.advance(60_001);
    first.resolve();
    await until(() => events.includes('never stale'), 'the items behind the dropped one');
    expect(events).toEqual(['first', 'dropped at 60001', 'fresh enough', 'never stale']);
    expect(q.pending).toBe(0);
  });

  it('keeps an item exactly as old as its staleness allows, and gives the work its age on the queue clock', async () => {
    const clock = new ManualClock();
    const ages: number[] = [];
    const first = deferred();
    const q = new AckedWork({ concurrency: 1, leaseMs: 600_000, limit: 1_000, onError: () => {}, clock });
    q.run(() => first.promise);
    const later = deferred();
    q.run(async (age) => { ages.push(age()); await later.promise; ages.push(age()); }, { afterMs: 1_000, drop: () => { ages.push(-1); } });
    clock.advance(1_000);
    first.resolve();
    await until(() => ages.length === 1, 'the item to start');
    clock.advance(5_000);
    later.resolve();
    await until(() => ages.length === 2, 'the item to ask its age again');
    expect(ages).toEqual([1_000, 6_000]);
  });

  it('reports a drop that fails to onError, and goes on', async () => {
    const clock = new ManualClock();
    const errors: unknown[] = [];
    const done: string[] = [];
    const first = deferred();
    const q = new AckedWork({ concurrency: 1, leaseMs: 600_000, limit: 1_000, onError: (e) => errors.push(e), clock });
    q.run(() => first.promise);
    q.run(async () => {}, { afterMs: 0, drop: () => { throw new Error('no tell'); } });
    q.run(async () => {}, { afterMs: 0, drop: async () => { throw new Error('no tell either'); } });
    q.run(async () => { done.push('after'); });
    clock.advance(1);
    first.resolve();
    await until(() => done.length > 0 && errors.length === 2, 'the item after the failing drops');
    expect((errors as Error[]).map((e) => e.message)).toEqual(['no tell', 'no tell either']);
  });
});
