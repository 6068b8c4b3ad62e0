// Owns the balance side of reconciliation: what the ledger says the bot holds of each base asset
// (live buys minus sells) and of the quote currency (ledger-cash.ts) against what the exchange
// holds (its total: what open orders hold is still the account's). The exchange may hold more
// (manual holdings, dust, a deposit) — shown, not failed; holding less than the ledger says means
// the books are wrong or funds moved: that fails.
import { Decimal } from '../../money.js';
import type { Balance } from '../../exchange/types.js';
import type { LedgerFill } from './match.js';

export interface BalanceDiff {
  asset: string;
  ledger: string;
  exchange: string;
  /** exchange − ledger */
  diff: string;
  /** How far apart the two may be and still be ok (its rounding): self-heal reuses it rather than work it out again. */
  tolerance: string;
  status: 'ok' | 'exchange_holds_more' | 'exchange_holds_less';
}

export function ledgerHoldings(fills: readonly LedgerFill[]): Map<string, Decimal> {
  const sums = new Map<string, ExactSum>();
  let lastSymbol: string | null = null;
  let sum = new ExactSum();
  for (const f of fills) {
    // Fills of one pair come in runs: its sum is looked up again only when the pair changes.
    if (lastSymbol !== f.symbol) {
      const base = f.symbol.split('/')[0]!;
      const known = sums.get(base);
      if (known) sum = known;
      else sums.set(base, (sum = new ExactSum()));
      lastSymbol = f.symbol;
    }
    sum.add(f.quantity, f.side !== 'buy');
  }
  return new Map([...sums].map(([asset, sum]) => [asset, sum.total()]));
}

/** 10^k as a double, exact for every k here. */
const POW10 = Array.from({ length: 23 }, (_, k) => 10 ** k);

/**
 * An exact sum of decimal strings as one integer of units at the largest scale seen, so a ledger of
 * 100,000 fills makes no decimal object per fill. The units are held in a double while every term
 * and partial sum is an integer a double holds exactly (below 2^53: a quantity of up to 15
 * significant digits, trailing zeros aside, as a ledger's are), which makes no object at all; what
 * would not fit is carried in a BigInt beside it, and a term that is not a plain decimal ("1e-8") is
 * added with Decimal. Exact either way.
 */
class ExactSum {
  /** Units at #scale, always a safe integer. */
  #small = 0;
  /** Units at #scale beyond what #small holds. */
  #units = 0n;
  #scale = 0;
  #other: Decimal | null = null;

  add(text: string, negate: boolean): void {
    if (this.#addSmall(text, negate)) return;
    const dot = text.indexOf('.');
    const scale = dot < 0 ? 0 : text.length - dot - 1;
    let units: bigint;
    try {
      // BigInt also reads 0x/0o/0b prefixes, which a decimal is not: those go to Decimal.
      if (text.charCodeAt(1) > 57) throw new SyntaxError('not a plain decimal');
      units = BigInt(dot < 0 ? text : text.slice(0, dot) + text.slice(dot + 1));
    } catch {
      const term = new Decimal(text);
      this.#other = (this.#other ?? new Decimal(0)).plus(negate ? term.neg() : term);
      return;
    }
    // "-0.5" parses as -05 units at scale 1: the sign is carried by the whole digit string.
    if (scale > this.#scale) this.#rescale(scale);
    else if (scale < this.#scale) units *= 10n ** BigInt(this.#scale - scale);
    this.#units += negate ? -units : units;
  }

  /**
   * Adds a plain decimal ("-12.3400": an optional minus, digits, at most one point) whose units, and
   * the sum's, stay safe integers at the sum's scale; false, having added nothing, for anything else.
   */
  #addSmall(text: string, negate: boolean): boolean {
    const n = text.length;
    let i = text.charCodeAt(0) === 45 ? 1 : 0; // '-'
    const minus = i === 1;
    const dot = text.indexOf('.', i);
    let end = n;
    if (dot >= 0) {
      while (end > dot + 1 && text.charCodeAt(end - 1) === 48) end -= 1; // trailing '0's say nothing
      if (end === dot + 1) end = dot;
    }
    const scale = dot >= 0 && end > dot ? end - dot - 1 : 0;
    if (scale >= POW10.length) return false;
    let units = 0;
    let digits = 0;
    for (; i < end; i++) {
      if (i === dot) continue;
      const d = text.charCodeAt(i) - 48;
      if (d < 0 || d > 9) return false;
      units = units * 10 + d;
      digits += 1;
    }
    if (digits === 0) return false;
    if (scale > this.#scale) this.#rescale(scale);
    else if (scale < this.#scale) units *= POW10[this.#scale - scale]!;
    // Past 2^53 a double rounds, but never back below it: a safe result was exact all along.
    if (!Number.isSafeInteger(units)) return false;
    const sum = minus !== negate ? this.#small - units : this.#small + units;
    if (Number.isSafeInteger(sum)) {
      this.#small = sum;
    } else {
      this.#units += BigInt(this.#small);
      this.#small = minus !== negate ? -units : units;
    }
    return true;
  }

  /** Carries the sum to a larger scale. */
  #rescale(scale: number): void {
    const by = scale - this.#scale;
    const small = by < POW10.length ? this.#small * POW10[by]! : Infinity;
    if (Number.isSafeInteger(small)) {
      this.#small = small;
    } else {
      this.#units += BigInt(this.#small);
      this.#small = 0;
    }
    this.#units *= 10n ** BigInt(by);
    this.#scale = scale;
  }

  total(): Decimal {
    const units = this.#units + BigInt(this.#small);
    const sum = new Decimal(units.toString()).div(new Decimal(10).pow(this.#scale));
    return this.#other ? sum.plus(this.#other) : sum;
  }
}

/** How far apart the ledger's and the exchange's figure for a base asset may be (one satoshi). */
export const BALANCE_TOLERANCE = '0.00000001';

export function balanceDiffs(fills: readonly LedgerFill[], balances: readonly Balance[], tolerance = BALANCE_TOLERANCE): BalanceDiff[] {
  return [...ledgerHoldings(fills)].map(([asset, ledger]) => balanceDiff(asset, ledger, balances, tolerance));
}

/** One asset: what the ledger says the bot holds against the exchange's total of it. */
export function balanceDiff(asset: string, ledger: Decimal, balances: readonly Balance[], tolerance: Decimal | string): BalanceDiff {
  const exchange = new Decimal(balances.find((b) => b.asset === asset)?.total ?? '0');
  const diff = exchange.minus(ledger);
  const status = diff.abs().lte(tolerance) ? 'ok' : diff.isPositive() ? 'exchange_holds_more' : 'exchange_holds_less';
  return { asset, ledger: ledger.toFixed(), exchange: exchange.toFixed(), diff: diff.toFixed(), tolerance: new Decimal(tolerance).toFixed(), status };
}
