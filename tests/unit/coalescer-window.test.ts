// The coalescer's group commit: rows issued in one turn share a statement; when rows come faster than
// one per half window, a row waits out the rest of the window since the last statement and shares the
// next with every row issued meanwhile; after a quiet spell, or at a steady slower pace, a row goes on
// the next turn without waiting. The clock is injected, so what is asserted is which rows shared a
// statement, not how long anything took.
import { describe, expect, it } from 'vitest';
import { Coalescer } from '../../src/db/coalesce.js';

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

function recorder(opts: { busyWindowMs?: number; now?: () => number }) {
  const batches: string[][] = [];
  const c = new Coalescer<string, string>(async (items) => {
    batches.push(items);
    return items.map((i) => `${i}!`);
  }, opts);
  return { c, batches };
}

describe('Coalescer busy window', () => {
  it('puts rows issued in the same turn in one statement, each caller getting its own outcome', async () => {
    const { c, batches } = recorder({ busyWindowMs: 0 });
    expect(await Promise.all([c.add('a'), c.add('b'), c.add('c')])).toEqual(['a!', 'b!', 'c!']);
    expect(batches).toEqual([['a', 'b', 'c']]);
  });

  it('when rows come fast, holds a row issued right after a statement until the window ends, then writes it with the rows issued meanwhile', async () => {
    let now = 1_000;
    const { c, batches } = recorder({ busyWindowMs: 300, now: () => now });
    await c.add('a');
    expect(batches).toEqual([['a']]);
    // 5 ms after the row before it (well under half the window): this row waits out the 295 ms
    // left, and so does the one issued a turn later.
    now += 5;
    const b = c.add('b');
    await turn();
    await turn();
    expect(batches).toEqual([['a']]);
    const cRow = c.add('c');
    expect(await Promise.all([b, cRow])).toEqual(['b!', 'c!']);
    expect(batches).toEqual([['a'], ['b', 'c']]);
  });

  it('writes a row issued after a quiet spell on the next turn, without waiting for the window', async () => {
    let now = 1_000;
    const { c, batches } = recorder({ busyWindowMs: 60_000, now: () => now });
    await c.add('a');
    now += 60_001;
    const b = c.add('b');
    await turn();
    expect(batches).toEqual([['a'], ['b']]);
    expect(await b).toBe('b!');
  });

  it('at a steady pace slower than one row per half window, writes each row on the next turn: waiting would batch nothing', async () => {
    let now = 1_000;
    const { c, batches } = recorder({ busyWindowMs: 300, now: () => now });
    await c.add('a');
    for (const row of ['b', 'c', 'd']) {
      now += 200; // within the window since the last statement, but rows 200 ms apart
      const p = c.add(row);
      await turn();
      expect(batches.at(-1)).toEqual([row]);
      await p;
    }
    expect(batches).toEqual([['a'], ['b'], ['c'], ['d']]);
  });

  it('without a window, a row issued a turn after a statement goes in a statement of its own', async () => {
    const { c, batches } = recorder({});
    await c.add('a');
    const b = c.add('b');
    await turn();
    const cRow = c.add('c');
    await Promise.all([b, cRow]);
    expect(batches).toEqual([['a'], ['b'], ['c']]);
  });

  it('with handBackOnePerTurn, resumes the callers of one statement one per turn of the event loop, in order', async () => {
    let turnNo = 0;
    let ticking = true;
    const tick = () => {
      turnNo += 1;
      if (ticking) setImmediate(tick);
    };
    setImmediate(tick);
    const c = new Coalescer<string, string>(async (items) => items.map((i) => `${i}!`), { handBackOnePerTurn: true });
    const resumed: Array<[string, number]> = [];
    await Promise.all(['a', 'b', 'c'].map((i) => c.add(i).then((out) => void resumed.push([out, turnNo]))));
    ticking = false;
    expect(resumed.map(([out]) => out)).toEqual(['a!', 'b!', 'c!']);
    expect(new Set(resumed.map(([, t]) => t)).size).toBe(3);
  });

  it('with handBackOnePerTurn, fails each row of a refused statement on its own turn, the others resumed', async () => {
    const c = new Coalescer<string, string>(async (items) => {
      if (items.includes('bad')) throw new Error('refused');
      return items.map((i) => `${i}!`);
    }, { handBackOnePerTurn: true });
    const outcomes = await Promise.allSettled([c.add('a'), c.add('bad'), c.add('b')]);
    expect(outcomes.map((o) => (o.status === 'fulfilled' ? o.value : (o.reason as Error).message))).toEqual(['a!', 'refused', 'b!']);
  });
});
