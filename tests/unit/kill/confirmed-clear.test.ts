// The one ground on which a kill, its follow-up, a cancel again or a halt's cancel says it is done:
// Kraken confirmed zero open orders and no order of ours is on its way (services/kill/fence.ts).
import { describe, expect, it } from 'vitest';
import { confirmedClear, inFlightPhrase, neverLiveNotClear, type FenceReport } from '../../../src/services/kill/fence.js';

const none: FenceReport = { waitedMs: 3, unresolved: [] };
const onItsWay: FenceReport = { waitedMs: 3_000, unresolved: [{ id: 7, clientOrderId: 'c-7', mode: 'live', symbol: 'BTC/USD', side: 'buy' }] };
const unread: FenceReport = { waitedMs: 3_000, unresolved: [], error: 'the database (order intents) did not answer within 3000 ms' };

describe('confirmed clear', () => {
  it('is Kraken confirming zero open orders with no order of ours on its way', () => {
    expect(confirmedClear(true, none)).toBe(true);
  });

  it('is not Kraken\'s word alone: an order still on its way, or orders on their way that could not be read, may still land', () => {
    expect(confirmedClear(true, onItsWay)).toBe(false);
    expect(confirmedClear(true, unread)).toBe(false);
    expect(inFlightPhrase(onItsWay)).toBe('1 order(s) still on their way');
    expect(inFlightPhrase(unread)).toBe('Orders on their way could not be checked (the database (order intents) did not answer within 3000 ms)');
  });

  it('is never nothing in flight alone', () => {
    expect(confirmedClear(false, none)).toBe(false);
  });

  it('names the command that cancels again as the next step of a never-live cancel not confirmed clear', () => {
    const venues = [{ venue: 'paper', confirmed: false }];
    const command = 'cancel again with ctb incident done cancel_orders (or its button in the incident thread)';
    expect(neverLiveNotClear(venues, none)).toEqual({ why: 'paper did not confirm none open', next: command });
    expect(neverLiveNotClear([], onItsWay).next).toBe(`${command} once the orders on their way have landed`);
    expect(neverLiveNotClear([], unread).next).toBe(`${command} once the orders on their way can be read`);
  });
});
