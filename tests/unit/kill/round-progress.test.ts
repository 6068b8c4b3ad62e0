// The line a kill's rounds tell the operator when a call missed its deadline says what comes next:
// after a CancelAll, this try's OpenOrders (not "trying again"); after an OpenOrders, another try —
// each only while there is time for it. Calls are a scripted exchange; deadlines a test clock's.
import { describe, expect, it } from 'vitest';
import type { Exchange } from '../../../src/exchange/types.js';
import type { Logger } from '../../../src/logger.js';
import { clearVenue } from '../../../src/services/kill/cancel-everywhere.js';
import { DeadlineError } from '../../../src/services/kill/deadline.js';

const logger = { warn: () => {}, error: () => {} } as unknown as Logger;

describe('the progress line of a call that missed its deadline', () => {
  it('says the open orders are read next after a CancelAll, and that it tries again after an OpenOrders', async () => {
    let t = 0;
    const lines: string[] = [];
    let cancels = 0;
    let reads = 0;
    const exchange = {
      cancelAllOrders: () => (++cancels === 1 ? Promise.reject(new DeadlineError('kraken cancel-all', 10_000)) : Promise.resolve({ canceled: 0, earlierAnswerLost: false })),
      fetchOpenOrders: () => (++reads === 1 ? Promise.reject(new DeadlineError('kraken open-orders query', 10_000)) : Promise.resolve([])),
    } as unknown as Exchange;
    const report = await clearVenue('kraken', () => exchange, {
      logger, attempts: 1, now: () => t, confirmUntil: 60_000, answerBy: 70_000, callTimeoutMs: 10_000,
      within: (work) => work, sleep: async (ms) => void (t += ms), progress: (line) => lines.push(line),
    });
    expect(report.confirmed).toBe(true);
    expect(lines).toEqual([
      'kraken: CancelAll (try 1) did not answer within 10 s; reading the open orders next.',
      'kraken: OpenOrders (try 1) did not answer within 10 s; trying again.',
    ]);
  });
});
