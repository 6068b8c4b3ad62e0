// A snapshot row's figures are worked out in scaled integers and reuse the text of what did not
// change since the previous row: every row must still read exactly what decimal.js working it out
// afresh gives (money.ts's Decimal: 50 significant digits, half-even).
import { describe, expect, it } from 'vitest';
import { Decimal, ZERO, dec, str } from '../../src/money.js';
import { SnapshotRows, type Mark, type SnapshotInputs } from '../../src/engine/snapshot-rows.js';
import { drawdownPctText, parseFixed } from '../../src/engine/fixed-point.js';

const drawdownPct = (peak: Decimal) => (equity: Decimal) => (peak.gt(0) ? Decimal.max(ZERO, peak.minus(equity).div(peak).times(100)) : ZERO);
const equityOf = (cash: Decimal, marks: Mark[]) => marks.reduce((v, m) => v.plus(m.quantity.times(m.price)), cash);

function afresh(now: SnapshotInputs) {
  const equity = now.equity();
  return { equity: str(equity), cash: str(now.cash), peakEquity: str(Decimal.max(now.peak, equity)), drawdownPct: now.drawdownPct(equity).toFixed(6) };
}

function inputs(cash: Decimal, marks: Mark[], peak: Decimal, opts: { inFlight?: boolean } = {}): SnapshotInputs {
  return { cash, marks: opts.inFlight ? null : marks, equity: () => equityOf(cash, marks), peak, drawdownPct: drawdownPct(peak) };
}

describe('equity snapshot figures', () => {
  it('read the same as decimal.js worked out afresh, row after row, whatever changed between them', () => {
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const rows = new SnapshotRows();
    let cash = dec('10000');
    let peak = dec('10000');
    let quantity = ZERO;
    let second: Decimal | null = null;
    for (let i = 0; i < 20_000; i++) {
      const r = rand();
      // Orders move cash and the positions now and then; the peak rises only now and then; most rows change nothing but the close.
      if (r < 0.01) cash = cash.minus('123.456789');
      else if (r < 0.02) cash = cash.plus('234.567891').minus(dec('0.000000123456789012345678').times(rand()));
      else if (r < 0.04) quantity = quantity.isZero() ? dec((rand() / 10).toFixed(8)) : ZERO;
      else if (r < 0.05) second = second ? null : dec('1.23456789');
      const close = 50_000 + Math.round(rand() * 1_000_000) / 100;
      const marks: Mark[] = [];
      if (!quantity.isZero()) marks.push({ quantity, price: close });
      // A pair no candle has priced yet is marked at its (exact) entry price.
      if (second) marks.push({ quantity: second, price: dec('3012.123456789012345678') });
      const equity = equityOf(cash, marks);
      // A new high, or an operator's resume re-arming the guard at today's equity (a lower peak).
      const p = rand();
      if (p < 0.05) peak = Decimal.max(peak, equity);
      else if (p < 0.07) peak = equity;
      // Identity is not promised: equal values in new objects, as the engine makes them.
      const now = inputs(rand() < 0.5 ? cash : dec(cash.toFixed()), marks, peak, { inFlight: rand() < 0.02 });
      expect(rows.figures(now)).toEqual(afresh(now));
    }
  });

  it('stores the higher of the peak and an equity a hair above it', () => {
    const rows = new SnapshotRows();
    const peak = dec('19999981.999999998137354851');
    const equity = dec('19999982');
    expect(rows.figures(inputs(equity, [], peak))).toMatchObject({ peakEquity: '19999982', drawdownPct: '0.000000' });
    const lower = dec('19999000');
    expect(rows.figures(inputs(lower, [], peak))).toMatchObject({ peakEquity: '19999981.999999998137354851', equity: '19999000' });
  });

  it('rounds a drawdown half-way between two millionths of a percent as decimal.js does (half to even), and past 50 digits too', () => {
    const rows = new SnapshotRows();
    // 0.0000005 % and 0.0000015 %: exact ties.
    for (const [peak, equity] of [['10000', '9999.99995'], ['10000', '9999.99985'], ['3', '2.9999999999999999999999999999999999999999999999991']] as const) {
      const now = inputs(dec(equity), [], dec(peak));
      expect(rows.figures(now)).toEqual(afresh(now));
    }
    // A cash with more than 50 digits: decimal.js rounds the sum to 50, and so must the figures.
    const long = inputs(dec('1234567.12345678901234567890123456789012345678901234567'), [{ quantity: dec('0.12345678'), price: 65_432.17 }], dec('2000000'));
    expect(rows.figures(long)).toEqual(afresh(long));
    expect(afresh(long).equity.replace('.', '')).toHaveLength(50);
  });

  it('answers no drawdown from the fast path where it cannot be sure, and decimal.js\'s where it can', () => {
    expect(drawdownPctText(parseFixed('10000')!, parseFixed('9999.99995')!)).toBeNull();
    expect(drawdownPctText(parseFixed('10000')!, parseFixed('9000')!)).toBe('10.000000');
    expect(drawdownPctText(parseFixed('10000')!, parseFixed('10001')!)).toBe('0.000000');
    expect(drawdownPctText(parseFixed('3')!, parseFixed('2')!)).toBe(drawdownPct(dec(3))(dec(2)).toFixed(6));
  });
});
