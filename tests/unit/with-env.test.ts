// withEnv sets variables for one call and puts every one back, so that a file sharing its worker
// process leaves the environment as it found it for the next file.
import { describe, expect, it } from 'vitest';
import { withEnv } from '../support/with-env.js';

// Names nothing else sets; each test starts with them unset.
const A = 'CTB_WITH_ENV_TEST_A';
const B = 'CTB_WITH_ENV_TEST_B';
const env = () => ({ a: process.env[A], b: process.env[B], hasA: A in process.env, hasB: B in process.env });
const unset = { a: undefined, b: undefined, hasA: false, hasB: false };

describe('withEnv', () => {
  it('sets the variables for a synchronous call and deletes again the ones that were unset', () => {
    expect(env()).toEqual(unset);
    expect(withEnv({ [A]: '1', [B]: '2' }, () => env())).toEqual({ a: '1', b: '2', hasA: true, hasB: true });
    expect(env()).toEqual(unset);
  });

  it('puts back the value a variable had, and unsets one for the call when given undefined', () => {
    withEnv({ [A]: 'outer', [B]: 'kept' }, () => {
      expect(withEnv({ [A]: 'inner', [B]: undefined }, () => env())).toEqual({ a: 'inner', b: undefined, hasA: true, hasB: false });
      expect(env()).toEqual({ a: 'outer', b: 'kept', hasA: true, hasB: true });
    });
    expect(env()).toEqual(unset);
  });

  it('keeps the variables for the whole of an asynchronous call and puts them back when it settles', async () => {
    const pending = withEnv({ [A]: 'async' }, async () => {
      await new Promise((resolve) => setImmediate(resolve));
      return env().a;
    });
    expect(env().a).toBe('async'); // still inside the call
    expect(await pending).toBe('async');
    expect(env()).toEqual(unset);
  });

  it('puts them back when the call throws or its promise rejects', async () => {
    expect(() => withEnv({ [A]: 'x' }, () => { throw new Error('sync'); })).toThrow('sync');
    expect(env()).toEqual(unset);
    await expect(withEnv({ [A]: 'y' }, async () => { throw new Error('async'); })).rejects.toThrow('async');
    expect(env()).toEqual(unset);
  });
});
