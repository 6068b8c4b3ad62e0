import { describe, expect, it } from 'vitest';
import { capitalBuffer } from '../../src/engine/ledger/capital-buffer.js';
import { dec } from '../../src/money.js';

describe('capital_buffer', () => {
  it('is the uncommitted quote cash after the close minus the reserve share of equity at close', () => {
    // 10 000 equity, 20% reserve = 2 000; 7 500 cash uncommitted → 5 500 to spare.
    expect(capitalBuffer({ uncommittedQuote: dec('7500'), equity: dec('10000') }, 20).toFixed()).toBe('5500');
  });

  it('goes negative when open positions have eaten into the reserve', () => {
    expect(capitalBuffer({ uncommittedQuote: dec('1500'), equity: dec('10000') }, 20).toFixed()).toBe('-500');
  });

  it('is exact with amounts that binary floating point cannot represent', () => {
    expect(capitalBuffer({ uncommittedQuote: dec('0.3'), equity: dec('0.1') }, 100).toFixed()).toBe('0.2');
  });

  it('equals the whole uncommitted cash with no reserve configured', () => {
    expect(capitalBuffer({ uncommittedQuote: dec('123.45'), equity: dec('999') }, 0).toFixed()).toBe('123.45');
  });
});
