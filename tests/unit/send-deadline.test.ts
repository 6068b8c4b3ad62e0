// When an order decided at its fence moment may still be sent, and with what deadline (send-deadline.ts,
// and AddOrder's deadline as the Kraken adapter writes it).
import { describe, expect, it } from 'vitest';
import { NOT_FOUND_GRACE_MS } from '../../src/engine/recovery.js';
import { ORDER_SEND_DEADLINE_MS, SEND_MIN_LEFT_MS, sendWindow } from '../../src/engine/send-deadline.js';
import { krakenDeadline } from '../../src/exchange/kraken/kraken-exchange.js';

const fenced = new Date('2026-04-01T00:18:00Z');
const after = (ms: number) => new Date(fenced.getTime() + ms);

describe('the send window of an order fenced at its intent', () => {
  it('leaves Kraken a deadline well inside the grace after which an intent it does not list is closed as never placed', () => {
    expect(NOT_FOUND_GRACE_MS - ORDER_SEND_DEADLINE_MS).toBeGreaterThanOrEqual(30_000);
    // Kraken takes a deadline from now + 2 s to now + 60 s.
    expect(SEND_MIN_LEFT_MS).toBeGreaterThan(2_000);
    expect(ORDER_SEND_DEADLINE_MS).toBeLessThanOrEqual(60_000);
  });

  it('gives what is left of the deadline while at least SEND_MIN_LEFT_MS is, and refuses the send after, saying why', () => {
    expect(sendWindow(fenced, fenced)).toEqual({ sendWithinMs: ORDER_SEND_DEADLINE_MS });
    expect(sendWindow(fenced, after(ORDER_SEND_DEADLINE_MS - SEND_MIN_LEFT_MS))).toEqual({ sendWithinMs: SEND_MIN_LEFT_MS });
    expect(sendWindow(fenced, after(ORDER_SEND_DEADLINE_MS - SEND_MIN_LEFT_MS + 1))).toEqual({
      notSent: 'not sent: the order was decided 17 s ago and Kraken must receive it within 20 s of that (less than 3 s was left); nothing was placed',
    });
    expect(sendWindow(fenced, after(75_000))).toMatchObject({ notSent: expect.stringMatching(/^not sent: the order was decided 75 s ago/) });
  });
});

describe('AddOrder\'s deadline as written for Kraken (krakenDeadline)', () => {
  const now = Date.parse('2026-04-01T00:18:00.200Z');

  it('rounds down to whole seconds and judges what is left on the rounded value: 3.5 s asked, 2.8 s written, under SEND_MIN_LEFT_MS', () => {
    expect(krakenDeadline(new Date(now + 3_500), null, now)).toEqual({ deadline: '2026-04-01T00:18:03Z', leftMs: 2_800 });
    expect(krakenDeadline(new Date(now + 3_500), null, now).leftMs).toBeLessThan(SEND_MIN_LEFT_MS);
    expect(krakenDeadline(new Date(now + 3_800), null, now)).toEqual({ deadline: '2026-04-01T00:18:04Z', leftMs: 3_800 });
  });

  it('moves the moment onto Kraken\'s clock by the offset, never later than meant there', () => {
    expect(krakenDeadline(new Date(now + ORDER_SEND_DEADLINE_MS), 25_300, now)).toEqual({ deadline: '2026-04-01T00:18:45Z', leftMs: 19_500 });
    expect(krakenDeadline(new Date(now + ORDER_SEND_DEADLINE_MS), -45_000, now)).toEqual({ deadline: '2026-04-01T00:17:35Z', leftMs: 19_800 });
  });
});
