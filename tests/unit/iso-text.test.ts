// Snapshot rows are stamped with a time of day worked out from the milliseconds (isoText): it must
// print exactly what Date#toISOString prints, across days, milliseconds and odd years.
import { describe, expect, it } from 'vitest';
import { isoText } from '../../src/db/queries/ledger-snapshots.js';

describe('a snapshot row\'s time as text', () => {
  it('reads as toISOString, minute after minute across days and a leap day, and at odd milliseconds', () => {
    const start = Date.parse('2024-02-27T22:00:00.000Z');
    for (let i = 0; i < 6_000; i++) {
      const at = new Date(start + i * 60_000 + (i % 7 === 0 ? 1 : i % 11 === 0 ? 37 : i % 13 === 0 ? 999 : 0));
      expect(isoText(at)).toBe(at.toISOString());
    }
  });

  it('reads as toISOString going back in time and at the ends of the four-digit years, where it falls back', () => {
    for (const text of ['1969-12-31T23:59:59.999Z', '1970-01-01T00:00:00.000Z', '0001-01-01T00:00:00.000Z', '9999-12-31T23:59:59.999Z', '2025-06-30T12:34:56.789Z']) {
      expect(isoText(new Date(text))).toBe(text);
    }
    for (const ms of [-62_135_596_800_001, 253_402_300_800_000, 8.64e15]) expect(isoText(new Date(ms))).toBe(new Date(ms).toISOString());
    expect(() => isoText(new Date(Number.NaN))).toThrow(RangeError);
  });
});
