import { describe, expect, it } from 'vitest';
import { readableAmount } from '../../src/engine/trade-log.js';

describe('amounts in the trade lines', () => {
  it('writes amounts of 1 and more with two decimals and thousands separators, as en-US does', () => {
    expect(readableAmount('65146.3')).toBe('65,146.30');
    expect(readableAmount('1234567.891')).toBe('1,234,567.89');
    expect(readableAmount('-1234567.891')).toBe('-1,234,567.89');
    expect(readableAmount('999.995')).toBe('1,000.00');
    expect(readableAmount('100')).toBe('100.00');
    expect(readableAmount('0')).toBe('0.00');
    expect(readableAmount(1000)).toBe('1,000.00');
  });

  it('keeps six significant digits below 1 (small-priced coins)', () => {
    expect(readableAmount('0.000123456789')).toBe('0.000123457');
  });
});
