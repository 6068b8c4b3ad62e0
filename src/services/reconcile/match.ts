// Owns the reconciliation's matching step: a pure function over arrays, no I/O, so it can be
// tested exhaustively and benchmarked (bench/reconcile.ts). Linear throughout — hash joins, no sort,
// no scan per fill: exchange trades are hashed by trade id into a table sized once for all of them
// (TradeIdIndex); fills recorded before their trade id was known join by order id (first on order +
// side + amounts, then on order alone) through index chains whose heads only move forward. Amounts
// are compared as decimal strings first and only with exact decimals when the texts differ, which
// keeps 100,000 fills well under a second.
import { Decimal } from '../../money.js';
import { canonicalDecimal } from '../../domain/decimal-text.js';
import type { ExchangeTrade, Side } from '../../exchange/types.js';

// Reconciliation keys spell amounts this way (domain/decimal-text.ts).
export { canonicalDecimal };

export interface LedgerFill {
  id: number;
  clientOrderId: string;
  exchangeTradeId: string;
  exchangeOrderId: string | null;
  symbol: string;
  side: Side;
  quantity: string;
  price: string;
  fee: string;
  /**
   * When it filled, as epoch milliseconds: a number, not a Date, because reconciliation loads every
   * live fill and 100,000 Date objects cost about a tenth of the load (allocation and collection).
   */
  filledAtMs: number;
}

export interface Tolerance {
  /** Absolute, in the base asset. */
  quantity: string;
  /** Relative: 0.000001 = one part in a million. */
  price: string;
  /** Absolute, in the fee currency. */
  fee: string;
}

export const DEFAULT_TOLERANCE: Tolerance = { quantity: '0.00000001', price: '0.000001', fee: '0.00001' };

export type MismatchField = 'symbol' | 'side' | 'quantity' | 'price' | 'fee';

export interface Mismatch {
  fill: LedgerFill;
  trade: ExchangeTrade;
  fields: MismatchField[];
}

export interface MatchResult {
  matched: number;
  mismatched: Mismatch[];
  /** Ledger fills with no trade on the exchange. */
  missingOnExchange: LedgerFill[];
  /** Exchange trades the ledger lacks, older than the cutoff: reported, not failed. */
  legacyUnmatched: ExchangeTrade[];
  /** Exchange trades the ledger lacks, at or after the cutoff: a failure. */
  recentUnmatched: ExchangeTrade[];
}

/**
 * Whether two decimal strings are textually the same number up to trailing zeros ("0.0100" and
 * "0.01", "5" and "5.000"), without allocating: the hot path of 100,000 comparisons. False means
 * "not obviously equal" — callers then compare exactly with decimals.
 */
export function sameDecimal(a: string, b: string): boolean {
  if (a === b) return true;
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i += 1;
  if (i < n) return false;
  const longer = a.length > b.length ? a : b;
  let j = i;
  if (i === 0 || longer.lastIndexOf('.', i - 1) < 0) {
    if (longer.charCodeAt(j) !== 46) return false; // '.'
    j += 1;
  }
  for (; j < longer.length; j++) if (longer.charCodeAt(j) !== 48) return false; // '0'
  return true;
}

function withinAbs(a: string, b: string, tol: string): boolean {
  if (sameDecimal(a, b)) return true;
  return new Decimal(a).minus(b).abs().lte(tol);
}

function withinRel(a: string, b: string, tol: string): boolean {
  if (sameDecimal(a, b)) return true;
  const x = new Decimal(a);
  const y = new Decimal(b);
  const scale = Decimal.max(x.abs(), y.abs());
  return scale.isZero() || x.minus(y).abs().div(scale).lte(tol);
}

export function compareFill(fill: LedgerFill, trade: ExchangeTrade, tol: Tolerance): MismatchField[] {
  const fields: MismatchField[] = [];
  if (fill.symbol !== trade.symbol) fields.push('symbol');
  if (fill.side !== trade.side) fields.push('side');
  if (!withinAbs(fill.quantity, trade.quantity, tol.quantity)) fields.push('quantity');
  if (!withinRel(fill.price, trade.price, tol.price)) fields.push('price');
  if (!withinAbs(fill.fee, trade.fee, tol.fee)) fields.push('fee');
  return fields;
}

/**
 * Exchange trade indexes by trade id: open addressing (linear probing) in one table of at least twice
 * as many slots as trades, sized once, each slot holding a trade's index + 1 (0: empty), beside each
 * trade's hash. A Map grown one insertion at a time rehashes at every doubling and scatters its
 * entries over several times the memory: at 200,000 trades its build and lookups cost about three
 * times what they cost at 100,000 (the table no longer fits the cache), and twice to three times
 * what this table costs at either size. Like Map.set, a trade id listed twice is found at its last index.
 */
class TradeIdIndex {
  readonly #trades: readonly ExchangeTrade[];
  readonly #slots: Int32Array;
  readonly #hashes: Int32Array;
  /** 1 at a trade whose id is listed again later (get never answers it). */
  readonly #shadowed: Uint8Array;
  readonly #mask: number;
  constructor(trades: readonly ExchangeTrade[]) {
    this.#trades = trades;
    let size = 2;
    while (size < trades.length * 2) size *= 2;
    this.#slots = new Int32Array(size);
    this.#hashes = new Int32Array(trades.length);
    this.#shadowed = new Uint8Array(trades.length);
    this.#mask = size - 1;
    for (let i = 0; i < trades.length; i++) {
      const id = trades[i]!.id;
      const h = hashText(id);
      this.#hashes[i] = h;
      const slot = this.#slot(id, h);
      const earlier = this.#slots[slot]!;
      if (earlier !== 0) this.#shadowed[earlier - 1] = 1;
      this.#slots[slot] = i + 1;
    }
  }
  /** The index of the (last) trade with this id, or -1. */
  get(id: string): number {
    return this.#slots[this.#slot(id, hashText(id))]! - 1;
  }
  /**
   * Whether get(id) answers `index`, told without hashing or probing the table: the trade there has
   * this id and none after it does. A caller that can guess where a trade is checks its guess here
   * first and spares the table's scattered reads, which are most of a lookup's cost once the table
   * outgrows the cache.
   */
  isAt(index: number, id: string): boolean {
    return index >= 0 && index < this.#trades.length && this.#shadowed[index] === 0 && this.#trades[index]!.id === id;
  }
  /** The slot holding this id, else the empty slot where it would go. */
  #slot(id: string, h: number): number {
    let p = h & this.#mask;
    for (let j = this.#slots[p]!; j !== 0; j = this.#slots[p]!) {
      if (this.#hashes[j - 1] === h && this.#trades[j - 1]!.id === id) return p;
      p = (p + 1) & this.#mask;
    }
    return p;
  }
}

/** FNV-1a over the UTF-16 code units: 32 bits, spread well enough for linear probing at half load. */
function hashText(text: string): number {
  let h = 0x811c9dc5 | 0; // as an int32 from the start, as the table stores it (the empty text hashes to this)
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h;
}

/**
 * Exchange trade indexes chained by a key, without an array per key: `head` maps a key to its first
 * index and `next` links each index to the following one with the same key. `take` skips claimed
 * indexes and moves the head past them, so over a whole run each link is walked at most once.
 */
class IndexChains {
  readonly #head = new Map<string, number>();
  readonly #next: Int32Array;
  constructor(size: number) {
    this.#next = new Int32Array(size).fill(-1);
  }
  /** Puts `index` in front of the key's chain. */
  prepend(key: string, index: number): void {
    this.#next[index] = this.#head.get(key) ?? -1;
    this.#head.set(key, index);
  }
  take(key: string, claimed: Uint8Array): number | undefined {
    let i = this.#head.get(key);
    if (i === undefined) return undefined;
    while (i >= 0 && claimed[i] === 1) i = this.#next[i]!;
    this.#head.set(key, i);
    return i >= 0 ? i : undefined;
  }
}

const amountsKey = (orderId: string, side: string, quantity: string, price: string, fee: string) =>
  `${orderId}\u0000${side}\u0000${canonicalDecimal(quantity)}\u0000${canonicalDecimal(price)}\u0000${canonicalDecimal(fee)}`;

export function matchTrades(
  ledger: readonly LedgerFill[],
  exchange: readonly ExchangeTrade[],
  opts: { legacyBefore: Date | null; tolerance?: Tolerance },
): MatchResult {
  const tol = opts.tolerance ?? DEFAULT_TOLERANCE;
  const byId = new TradeIdIndex(exchange);
  const claimed = new Uint8Array(exchange.length);
  const result: MatchResult = { matched: 0, mismatched: [], missingOnExchange: [], legacyUnmatched: [], recentUnmatched: [] };
  const fallback: LedgerFill[] = [];

  const settle = (fill: LedgerFill, index: number) => {
    claimed[index] = 1;
    const trade = exchange[index]!;
    const fields = compareFill(fill, trade, tol);
    if (fields.length === 0) result.matched += 1;
    else result.mismatched.push({ fill, trade, fields });
  };

  // Kraken lists trades newest first and the ledger is loaded oldest first, so a fill's trade is
  // most often the one listed just before the previous fill's: that guess is checked first.
  let previous = -1;
  for (const fill of ledger) {
    const id = fill.exchangeTradeId;
    const index = byId.isAt(previous - 1, id) ? previous - 1 : byId.get(id);
    if (index >= 0) previous = index;
    if (index >= 0 && claimed[index] === 0) settle(fill, index);
    else fallback.push(fill);
  }
  // Second pass, after every exact id has been claimed: fills known only by their order id. A
  // trade of the same order with the same side and amounts is preferred (partial fills of one
  // order), else the order's oldest unclaimed trade — which then shows as a mismatch.
  if (fallback.length > 0) {
    const byAmounts = new IndexChains(exchange.length);
    const byOrder = new IndexChains(exchange.length);
    // Kraken lists newest first; prepending while walking forward leaves each chain oldest first.
    for (let i = 0; i < exchange.length; i++) {
      if (claimed[i] === 1) continue;
      const t = exchange[i]!;
      byOrder.prepend(t.orderId, i);
      byAmounts.prepend(amountsKey(t.orderId, t.side, t.quantity, t.price, t.fee), i);
    }
    for (const fill of fallback) {
      const order = fill.exchangeOrderId;
      const index = order === null
        ? undefined
        : byAmounts.take(amountsKey(order, fill.side, fill.quantity, fill.price, fill.fee), claimed) ?? byOrder.take(order, claimed);
      if (index === undefined) result.missingOnExchange.push(fill);
      else settle(fill, index);
    }
  }
  const cutoff = opts.legacyBefore?.getTime() ?? -Infinity;
  for (let i = 0; i < exchange.length; i++) {
    if (claimed[i] === 1) continue;
    const t = exchange[i]!;
    if (t.timestamp.getTime() < cutoff) result.legacyUnmatched.push(t);
    else result.recentUnmatched.push(t);
  }
  return result;
}
