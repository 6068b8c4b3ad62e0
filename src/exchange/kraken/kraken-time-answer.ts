// Owns whether an answer of Kraken's public Time ({ error: [], result: { unixtime, rfc1123 } }) is one
// its clock may be read from (kraken-time.ts). An order's deadline is written on the clock read, so a
// wrong reading is worse than none: a deadline an hour off is refused by Kraken as invalid, or one in
// the past by this adapter as too late, and either costs the order. What is refused: an answer with
// Kraken's errors, a unixtime that is missing, not whole seconds, negative or before TIME_FLOOR (no clock
// reading of today: a stale cache's, or a zero), an rfc1123 that is missing or unreadable (nothing to
// check the unixtime against), and the two disagreeing by over TIME_AGREE_MS (both are whole seconds of
// one moment: apart, one of them is wrong, and which is unknown). Nothing is judged against this host's
// clock: a wrong host clock is what the reading is for. rfc1123's year has two digits ("01 Jan 50"),
// which Date reads as 1950 from 50 on: read as 20xx (rfc1123Ms).

/** Kraken's Time answer as the adapter received it: Kraken's error strings, and the result. */
export interface TimeAnswer {
  error: readonly string[];
  result: unknown;
}

/** What makes an answer unusable, each said once (kraken-time.ts). */
export type TimeAnswerFault = 'error' | 'unixtime' | 'rfc1123' | 'disagree';

export type JudgedTimeAnswer = { ok: true; unixtime: number } | { ok: false; fault: TimeAnswerFault; why: string };

/** How far unixtime and rfc1123 may be apart: both whole seconds of one moment. */
export const TIME_AGREE_MS = 1_000;

/**
 * No answer of Time before this is a reading of Kraken's clock now (2025-01-01T00:00:00Z): fixed, never
 * this host's clock, so a host clock years off still has its reading used.
 */
export const TIME_FLOOR_UNIXTIME = 1_735_689_600;

/**
 * rfc1123 as ms since 1970, a two-digit year read as 20xx ("Sat, 01 Jan 50 …" is 2050, which Date reads
 * as 1950), a four-digit one as written; NaN when unreadable.
 */
export function rfc1123Ms(rfc1123: string): number {
  const twoDigits = /^(\w{3}, \d{1,2} \w{3} )(\d\d)( \d\d:\d\d:\d\d .+)$/.exec(rfc1123);
  return Date.parse(twoDigits ? `${twoDigits[1]}20${twoDigits[2]}${twoDigits[3]}` : rfc1123);
}

const shown = (v: unknown): string => (v === undefined ? 'none' : JSON.stringify(v) ?? String(v)).slice(0, 60);
/** A unixtime as a date, where there is one (a date past year 275760 has none). */
const dated = (unixtime: number): string => {
  const at = new Date(unixtime * 1000);
  return Number.isNaN(at.getTime()) ? `${unixtime}` : `${unixtime} (${at.toISOString()})`;
};

export function judgeTimeAnswer(answer: TimeAnswer): JudgedTimeAnswer {
  if (answer.error.length > 0) return { ok: false, fault: 'error', why: `Kraken's Time answered with errors (${answer.error.join(', ').slice(0, 120)})` };
  const result = typeof answer.result === 'object' && answer.result !== null ? (answer.result as Record<string, unknown>) : {};
  const { unixtime, rfc1123 } = result;
  if (typeof unixtime !== 'number' || !Number.isSafeInteger(unixtime) || unixtime < 0) {
    return { ok: false, fault: 'unixtime', why: `Kraken's Time answered unixtime ${shown(unixtime)} (expected whole seconds since 1970, not negative)` };
  }
  if (unixtime < TIME_FLOOR_UNIXTIME) {
    return { ok: false, fault: 'unixtime', why: `Kraken's Time answered unixtime ${dated(unixtime)}, before ${new Date(TIME_FLOOR_UNIXTIME * 1000).toISOString()} (no reading of its clock now)` };
  }
  const rfcMs = typeof rfc1123 === 'string' ? rfc1123Ms(rfc1123) : Number.NaN;
  if (!Number.isFinite(rfcMs)) {
    return { ok: false, fault: 'rfc1123', why: `Kraken's Time answered rfc1123 ${shown(rfc1123)} (expected a date such as "Thu, 06 Jul 23 18:50:48 +0000" to check unixtime against)` };
  }
  const apartMs = Math.abs(unixtime * 1000 - rfcMs);
  if (apartMs > TIME_AGREE_MS) {
    return {
      ok: false, fault: 'disagree',
      why: `Kraken's Time answered unixtime ${dated(unixtime)} and rfc1123 "${String(rfc1123).slice(0, 40)}", ${Math.round(apartMs / 1000)} s apart (expected within ${TIME_AGREE_MS / 1000} s)`,
    };
  }
  return { ok: true, unixtime };
}
