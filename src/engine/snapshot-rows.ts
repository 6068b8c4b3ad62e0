// Owns the figures of an equity snapshot row, exact, at the least cost per candle: a replay writes a
// row per candle, and decimal.js (adding, multiplying, dividing, printing) was most of a candle's
// work while a position was open. The equity (cash plus each position's quantity × close) and the
// drawdown are worked out in scaled integers (fixed-point.ts), which print exactly what decimal.js
// prints, or — where they cannot be sure to — by decimal.js itself. What did not change since the
// previous row (cash between orders, the peak between new highs) keeps the text it had.
import { Decimal, str } from '../money.js';
import { addFixed, compareFixed, drawdownPctText, fixedOfNumber, fixedText, mulFixed, parseFixed, type Fixed } from './fixed-point.js';

export interface SnapshotFigures {
  equity: string;
  cash: string;
  peakEquity: string;
  drawdownPct: string;
}

/** A position's part of the equity: its quantity at a price (the last close, or the entry price before any). */
export interface Mark {
  quantity: Decimal;
  price: number | Decimal;
}

export interface SnapshotInputs {
  cash: Decimal;
  /**
   * The book's equity as cash plus these marks, in this order; null when it has other parts (orders
   * in flight), and `equity` is used.
   */
  marks: readonly Mark[] | null;
  /** The book's exact equity now (asked only when the marks cannot give it exactly). */
  equity: () => Decimal;
  /** The risk guard's exact peak, from which the drawdown is measured. */
  peak: Decimal;
  /** The exact drawdown of an equity from `peak`, in percent. */
  drawdownPct: (equity: Decimal) => Decimal;
}

interface Cached {
  value: Decimal;
  fixed: Fixed | null;
  text: string;
}

/** Equal decimals print the same (decimal.js keeps no trailing zeros), so a text follows its value. */
const same = (a: Decimal, b: Decimal): boolean => a === b || a.eq(b);

export class SnapshotRows {
  #cash: Cached | undefined;
  #peak: Cached | undefined;
  /**
   * The figures of the last flat book (no position, nothing in flight) and the cash and peak they
   * were worked out from: a flat book's figures follow from those two alone, and between trades
   * they stay the same for many candles.
   */
  #flat: { cash: string; peak: string; figures: SnapshotFigures } | undefined;
  /** Positions' quantities, read once each. */
  readonly #quantities = new WeakMap<Decimal, Fixed | null>();

  #cached(last: Cached | undefined, value: Decimal): Cached {
    if (last && same(value, last.value)) return last.value === value ? last : { ...last, value };
    const text = str(value);
    return { value, fixed: parseFixed(text), text };
  }

  #quantity(q: Decimal): Fixed | null {
    let f = this.#quantities.get(q);
    if (f === undefined) {
      f = parseFixed(str(q));
      this.#quantities.set(q, f);
    }
    return f;
  }

  /** cash + Σ quantity × price, exactly as Portfolio.exactEquity adds it; null where decimal.js must. */
  #fixedEquity(cash: Fixed | null, marks: readonly Mark[] | null): Fixed | null {
    if (!cash || !marks) return null;
    let value: Fixed | null = cash;
    for (const m of marks) {
      const q = this.#quantity(m.quantity);
      const price = typeof m.price === 'number' ? fixedOfNumber(m.price) : parseFixed(str(m.price));
      const part = q && price ? mulFixed(q, price) : null;
      value = part ? addFixed(value, part) : null;
      if (!value) return null;
    }
    return value;
  }

  figures(now: SnapshotInputs): SnapshotFigures {
    const cash = (this.#cash = this.#cached(this.#cash, now.cash));
    const peak = (this.#peak = this.#cached(this.#peak, now.peak));
    const flat = now.marks !== null && now.marks.length === 0;
    if (flat && this.#flat && this.#flat.cash === cash.text && this.#flat.peak === peak.text) return this.#flat.figures;
    const figures = this.#figures(now, cash, peak);
    if (flat) this.#flat = { cash: cash.text, peak: peak.text, figures };
    return figures;
  }

  #figures(now: SnapshotInputs, cash: Cached, peak: Cached): SnapshotFigures {
    const fixed = this.#fixedEquity(cash.fixed, now.marks);
    if (fixed && peak.fixed) {
      const equity = now.marks!.length === 0 ? cash.text : fixedText(fixed);
      const drawdown = drawdownPctText(peak.fixed, fixed);
      if (drawdown !== null) {
        // A new high within a float's rounding of the old one leaves the guard's peak a hair below.
        const peakEquity = compareFixed(peak.fixed, fixed) >= 0 ? peak.text : equity;
        return { equity, cash: cash.text, peakEquity, drawdownPct: drawdown };
      }
    }
    const exact = now.equity();
    return {
      equity: str(exact), cash: cash.text, peakEquity: str(Decimal.max(now.peak, exact)), drawdownPct: now.drawdownPct(exact).toFixed(6),
    };
  }
}
