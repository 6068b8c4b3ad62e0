// The urgent lane of exchange calls (src/exchange/urgency.ts) and the promise hooks it turns on. In a
// process of its own (tests/integration, not in tests/support/shared-worker-files.ts): it checks that
// no promise hook is on in the whole process, which a file run before it in a shared worker could have
// left on; and it imports nothing else, so its fresh worker costs little.
import { executionAsyncId } from 'node:async_hooks';
import { describe, expect, it } from 'vitest';
import { isUrgent, urgently } from '../../../src/exchange/urgency.js';

describe("a kill's urgent lane", () => {
  // The lane is an AsyncLocalStorage: on Node 20, while one is in use every promise in the process
  // pays for promise hooks (about twice the cost). With them off a promise reaction has no async id (0).
  it('is in force inside urgent work, overlapping work included, and switched off once all of it has settled', async () => {
    const asyncIdInReaction = () => Promise.resolve().then(() => executionAsyncId());
    expect(await asyncIdInReaction()).toBe(0);
    let release!: () => void;
    const long = urgently(async () => {
      await new Promise<void>((resolve) => (release = resolve));
      return isUrgent();
    });
    expect(await urgently(async () => isUrgent())).toBe(true);
    // The short one settled; the long one is still urgent.
    release();
    expect(await long).toBe(true);
    expect(isUrgent()).toBe(false);
    expect(await asyncIdInReaction()).toBe(0);
  });
});
