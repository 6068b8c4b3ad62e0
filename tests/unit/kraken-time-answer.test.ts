// What of Kraken's Time answer is a reading of its clock (kraken-time-answer.ts): rfc1123's two-digit
// year read as 20xx, so answers from 2050 on agree with their unixtime; and no unixtime before
// TIME_FLOOR_UNIXTIME, consistent with its rfc1123 or not, is used.
import { describe, expect, it } from 'vitest';
import { judgeTimeAnswer, rfc1123Ms, TIME_FLOOR_UNIXTIME } from '../../src/exchange/kraken/kraken-time-answer.js';

const answer = (unixtime: number, rfc1123: string) => ({ error: [], result: { unixtime, rfc1123 } });

describe("Kraken's Time answer", () => {
  it('reads a two-digit year in rfc1123 as 20xx, before and from 2050', () => {
    expect(rfc1123Ms('Thu, 06 Jul 23 18:50:48 +0000')).toBe(Date.UTC(2023, 6, 6, 18, 50, 48));
    expect(rfc1123Ms('Wed, 31 Dec 49 23:59:59 +0000')).toBe(Date.UTC(2049, 11, 31, 23, 59, 59));
    expect(rfc1123Ms('Sat, 01 Jan 50 00:00:00 +0000')).toBe(Date.UTC(2050, 0, 1));
    expect(rfc1123Ms('Mon, 31 Dec 99 12:00:00 +0000')).toBe(Date.UTC(2099, 11, 31, 12));
    // Four digits (as the simulator writes it) as written; nonsense unreadable.
    expect(rfc1123Ms('Sat, 01 Jan 2050 00:00:00 GMT')).toBe(Date.UTC(2050, 0, 1));
    expect(rfc1123Ms('not a date')).toBeNaN();
  });

  it('uses the answer of 2050-01-01 and of 2099, whose rfc1123 years have two digits', () => {
    const y2050 = Date.UTC(2050, 0, 1) / 1000;
    expect(judgeTimeAnswer(answer(y2050, 'Sat, 01 Jan 50 00:00:00 +0000'))).toEqual({ ok: true, unixtime: y2050 });
    const y2099 = Date.UTC(2099, 5, 30, 8, 15, 1) / 1000;
    expect(judgeTimeAnswer(answer(y2099, 'Tue, 30 Jun 99 08:15:01 +0000'))).toEqual({ ok: true, unixtime: y2099 });
  });

  it('does not use a unixtime before 2025-01-01, even one its rfc1123 agrees with (a zero, a stale cache)', () => {
    expect(new Date(TIME_FLOOR_UNIXTIME * 1000).toISOString()).toBe('2025-01-01T00:00:00.000Z');
    expect(judgeTimeAnswer(answer(0, 'Thu, 01 Jan 70 00:00:00 +0000'))).toEqual({
      ok: false, fault: 'unixtime',
      why: "Kraken's Time answered unixtime 0 (1970-01-01T00:00:00.000Z), before 2025-01-01T00:00:00.000Z (no reading of its clock now)",
    });
    expect(judgeTimeAnswer(answer(1688669448, 'Thu, 06 Jul 23 18:50:48 +0000'))).toMatchObject({ ok: false, fault: 'unixtime' });
    expect(judgeTimeAnswer(answer(TIME_FLOOR_UNIXTIME, 'Wed, 01 Jan 25 00:00:00 +0000'))).toEqual({ ok: true, unixtime: TIME_FLOOR_UNIXTIME });
  });
});
