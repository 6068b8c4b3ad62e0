// Owns the figures of an equity snapshot row, exact, at the least cost per candle: a replay writes a
// row per candle, and formatting decimals (and dividing for the drawdown) was most of a candle's
// work. What did not change since the previous row — cash between orders, the peak between new
// highs, everything while the book is flat — keeps the text it had; anything else is worked out
// again, exactly as before.
import { Decimal, str } from '../money.js';

export interface SnapshotFigures {
  equity: string;
  cash: string;
  peakEquity: string;
  drawdownPct: string;
}

export interface SnapshotInputs {
  /** The book's exact equity now. */
  equity: Decimal;
  cash: Decimal;
  /** The risk guard's exact peak, from which the drawdown is measured. */
  peak: Decimal;
  /** The exact drawdown of `equity` from `peak`, in percent. */
  drawdownPct: (equity: Decimal) => Decimal;
}

interface Last {
  equity: Decimal;
  cash: Decimal;
  peak: Decimal;
  stored: Decimal;
  figures: SnapshotFigures;
}

/** Equal decimals print the same (decimal.js keeps no trailing zeros), so a text follows its value. */
const same = (a: Decimal, b: Decimal): boolean => a === b || a.eq(b);

export class SnapshotRows {
  #last: Last | undefined;

  figures(now: SnapshotInputs): SnapshotFigures {
    const last = this.#last;
    // A new high within a float's rounding of the old one leaves the guard's peak a hair below.
    const stored = Decimal.max(now.peak, now.equity);
    const sameEquity = last !== undefined && same(now.equity, last.equity);
    const figures: SnapshotFigures = {
      equity: sameEquity ? last.figures.equity : str(now.equity),
      cash: last && same(now.cash, last.cash) ? last.figures.cash : str(now.cash),
      peakEquity: last && same(stored, last.stored) ? last.figures.peakEquity : str(stored),
      drawdownPct: sameEquity && same(now.peak, last.peak) ? last.figures.drawdownPct : now.drawdownPct(now.equity).toFixed(6),
    };
    this.#last = { equity: now.equity, cash: now.cash, peak: now.peak, stored, figures };
    return figures;
  }
}
