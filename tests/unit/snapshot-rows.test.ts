// A snapshot row's figures reuse the text of what did not change since the previous row: every row
// must still read exactly what working it out afresh gives.
import { describe, expect, it } from 'vitest';
import { Decimal, ZERO, dec, str } from '../../src/money.js';
import { SnapshotRows, type SnapshotInputs } from '../../src/engine/snapshot-rows.js';

const drawdownPct = (peak: Decimal) => (equity: Decimal) => (peak.gt(0) ? Decimal.max(ZERO, peak.minus(equity).div(peak).times(100)) : ZERO);

function afresh(now: SnapshotInputs) {
  return { equity: str(now.equity), cash: str(now.cash), peakEquity: str(Decimal.max(now.peak, now.equity)), drawdownPct: now.drawdownPct(now.equity).toFixed(6) };
}

describe('equity snapshot figures', () => {
  it('read the same as figures worked out afresh, row after row, whatever changed between them', () => {
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const rows = new SnapshotRows();
    let cash = dec('10000');
    let peak = dec('10000');
    let quantity = ZERO;
    for (let i = 0; i < 5_000; i++) {
      const r = rand();
      // Orders move cash and the position now and then; the peak rises only now and then; most rows change nothing but the close.
      if (r < 0.01) cash = cash.minus('123.456789');
      else if (r < 0.02) cash = cash.plus('234.567891');
      else if (r < 0.04) quantity = quantity.isZero() ? dec('0.01234567') : ZERO;
      const close = 50_000 + Math.round(rand() * 1_000_000) / 100;
      const equity = cash.plus(quantity.times(close));
      // A new high, or an operator's resume re-arming the guard at today's equity (a lower peak).
      const p = rand();
      if (p < 0.05) peak = Decimal.max(peak, equity);
      else if (p < 0.07) peak = equity;
      // Identity is not promised: equal values in new objects, as the engine makes them.
      const now: SnapshotInputs = { equity: rand() < 0.5 ? equity : dec(equity.toFixed()), cash: rand() < 0.5 ? cash : dec(cash.toFixed()), peak, drawdownPct: drawdownPct(peak) };
      expect(rows.figures(now)).toEqual(afresh(now));
    }
  });

  it('stores the higher of the peak and an equity a hair above it', () => {
    const rows = new SnapshotRows();
    const peak = dec('19999981.999999998137354851');
    const equity = dec('19999982');
    expect(rows.figures({ equity, cash: equity, peak, drawdownPct: drawdownPct(peak) })).toMatchObject({ peakEquity: '19999982', drawdownPct: '0.000000' });
    const lower = dec('19999000');
    expect(rows.figures({ equity: lower, cash: lower, peak, drawdownPct: drawdownPct(peak) })).toMatchObject({ peakEquity: '19999981.999999998137354851', equity: '19999000' });
  });
});
