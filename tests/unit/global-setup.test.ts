// vitest's global setup (tests/support/global-setup.ts): the database check first and alone, then the
// builds side by side, not one waiting for the other.
import { describe, expect, it } from 'vitest';
import { setUp } from '../support/global-setup.js';

/** Rejects when `p` has not settled within `ms`. */
const within = <T>(p: Promise<T>, ms: number) => Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`not done within ${ms} ms`)), ms))]);

describe('the global setup', () => {
  it('runs the builds side by side: each may end only once the others have started', async () => {
    const started: string[] = [];
    let allStarted!: () => void;
    const gate = new Promise<void>((resolve) => (allStarted = resolve));
    const build = (name: string) => async () => {
      started.push(name);
      if (started.length === 3) allStarted();
      await gate;
    };
    await within(setUp(async () => {}, [build('cli'), build('children'), build('pglite image')]), 5_000);
    expect(started).toEqual(['cli', 'children', 'pglite image']);
  });

  it('checks the database first and starts no build when the check fails', async () => {
    const events: string[] = [];
    const build = async () => void events.push('build');
    await expect(setUp(async () => {
      events.push('check');
      throw new Error('no database');
    }, [build, build])).rejects.toThrow('no database');
    expect(events).toEqual(['check']);
    await setUp(async () => void events.push('check again'), [build, build]);
    expect(events).toEqual(['check', 'check again', 'build', 'build']);
  });

  it('fails with the error of a build that fails', async () => {
    await expect(setUp(async () => {}, [async () => {}, async () => { throw new Error('esbuild failed'); }])).rejects.toThrow('esbuild failed');
  });
});
