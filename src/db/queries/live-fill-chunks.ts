// Owns reading the ledger's live fills back from the chunked texts liveFillRows asks PostgreSQL for
// (reconcile-ledger.ts): one text per range of fill ids instead of one row per fill. At 100,000 fills
// the driver's work per row (a message, a row object, a string per column) was about half the
// load's CPU; as a hundred texts of a few hundred kilobytes it is a few per cent, and what is left is
// cutting the fields out of the texts, here.
//
// A chunk's text: its count of fills, ␂, how many of them have an order id, ␂, then the fills,
// separated by ␂ (U+0002), each one's fields separated by ␁ (U+0001): trade id, quantity, price,
// fee, the time, id, side, symbol, client order id, and the order id unless it is null (concat_ws
// leaves a null out, separator and all). The amounts are the columns' own texts; the time is
// PostgreSQL's own (its binary form in hex: microseconds since 2000 as a signed 64-bit integer),
// which the server writes for a fraction of what extract(epoch …)'s exact decimal arithmetic costs
// it, read here exactly into floored epoch milliseconds.
//
// Every field but the order id is NOT NULL, so a text reads back unambiguously unless one of its
// texts holds a separator. That is always seen: a ␂ in a text makes one fill more than the chunk's
// count; a ␁ makes its fill's fields too many, or (one ␁ in a fill without an order id) makes one
// more fill with an order id than the chunk's count of them. Such a chunk, or a time too far out for
// a double to count its microseconds (past 2285, or infinity), makes read() answer false, and
// liveFillRows reads the columns instead.
import type { Fill } from '../schema/index.js';

/** A live fill as the matcher names its columns; the time as epoch milliseconds. */
export interface LiveFillRow {
  id: number;
  clientOrderId: string;
  exchangeTradeId: string;
  exchangeOrderId: string | null;
  symbol: string;
  side: Fill['side'];
  quantity: string;
  price: string;
  fee: string;
  filledAtMs: number;
}

const ROW = '\u0002';
const SEP = '\u0001';
/** 2000-01-01T00:00:00Z, where PostgreSQL counts its microseconds from, in epoch milliseconds. */
const PG_EPOCH_MS = 946_684_800_000;

export class LiveFillChunkReader {
  readonly fills: LiveFillRow[] = [];
  #side = '';
  #symbol = '';

  /** Appends a chunk's fills to `fills`; false (and `fills` then unusable) when the text cannot be read back unambiguously. */
  read(text: string): boolean {
    let b = text.indexOf(ROW);
    if (b < 0) return false;
    const count = integerAt(text, 0, b);
    let a = b + 1;
    b = text.indexOf(ROW, a);
    if (b < 0) return count === 0 && integerAt(text, a, text.length) === 0;
    const withOrder = integerAt(text, a, b);
    let rows = 0;
    let orders = 0;
    const end = text.length;
    for (a = b + 1; a <= end; a = b + 1) {
      b = text.indexOf(ROW, a);
      if (b < 0) b = end;
      const fill = this.#fill(text, a, b);
      if (fill === null) return false;
      this.fills.push(fill);
      rows += 1;
      if (fill.exchangeOrderId !== null) orders += 1;
    }
    return rows === count && orders === withOrder;
  }

  /** The fill in text[a, e), or null when it has too few or too many fields, or a field that is not what it must be. */
  #fill(p: string, a: number, e: number): LiveFillRow | null {
    let b = p.indexOf(SEP, a);
    if (b < 0 || b > e) return null;
    const exchangeTradeId = p.slice(a, b);
    if ((b = p.indexOf(SEP, (a = b + 1))) < 0 || b > e) return null;
    const quantity = p.slice(a, b);
    if ((b = p.indexOf(SEP, (a = b + 1))) < 0 || b > e) return null;
    const price = p.slice(a, b);
    if ((b = p.indexOf(SEP, (a = b + 1))) < 0 || b > e) return null;
    const fee = p.slice(a, b);
    if ((b = p.indexOf(SEP, (a = b + 1))) < 0 || b > e) return null;
    const filledAtMs = b - a === 16 ? epochMsOfPgTime(p, a) : NaN;
    if (Number.isNaN(filledAtMs)) return null;
    if ((b = p.indexOf(SEP, (a = b + 1))) < 0 || b > e) return null;
    const id = integerAt(p, a, b);
    if ((b = p.indexOf(SEP, (a = b + 1))) < 0 || b > e) return null;
    // Sides and pairs repeat fill after fill: the previous fill's string is reused when the text is the same.
    if (b - a !== this.#side.length || !p.startsWith(this.#side, a)) this.#side = p.slice(a, b);
    if ((b = p.indexOf(SEP, (a = b + 1))) < 0 || b > e) return null;
    if (b - a !== this.#symbol.length || !p.startsWith(this.#symbol, a)) this.#symbol = p.slice(a, b);
    a = b + 1;
    b = p.indexOf(SEP, a);
    let clientOrderId: string;
    let exchangeOrderId: string | null = null;
    if (b < 0 || b > e) {
      clientOrderId = p.slice(a, e);
    } else {
      clientOrderId = p.slice(a, b);
      const more = p.indexOf(SEP, b + 1);
      if (more >= 0 && more < e) return null;
      exchangeOrderId = p.slice(b + 1, e);
    }
    return { id, clientOrderId, exchangeTradeId, exchangeOrderId, symbol: this.#symbol, side: this.#side as LiveFillRow['side'], quantity, price, fee, filledAtMs };
  }
}

/** The decimal integer text p[a, b) as a number: digit by digit while exact, else as Number() reads it. */
function integerAt(p: string, a: number, b: number): number {
  if (b - a > 15) return +p.slice(a, b);
  let n = 0;
  for (let k = a; k < b; k++) {
    const d = p.charCodeAt(k) - 48;
    if (d < 0 || d > 9) return +p.slice(a, b);
    n = n * 10 + d;
  }
  return b > a ? n : +p.slice(a, b);
}

/**
 * Sixteen hex digits at p[a] — PostgreSQL's timestamptz, microseconds since 2000-01-01 UTC as a
 * signed 64-bit integer — as epoch milliseconds rounded down (as floor(extract(epoch …) * 1000)
 * gives them); NaN for anything else, or a count of microseconds a double cannot hold exactly.
 */
function epochMsOfPgTime(p: string, a: number): number {
  const hi = hexAt(p, a);
  const lo = hexAt(p, a + 8);
  // hi as a signed 32-bit integer: |microseconds| < 2^53 when -2^21 <= hi < 2^21.
  const high = hi >= 0x80000000 ? hi - 0x100000000 : hi;
  if (Number.isNaN(lo) || !(high >= -0x200000 && high < 0x200000)) return NaN;
  const micros = high * 0x100000000 + lo;
  const rest = micros % 1000;
  return (micros - rest) / 1000 - (rest < 0 ? 1 : 0) + PG_EPOCH_MS;
}

/** Eight lowercase hex digits at p[a] as an unsigned number; NaN if any is not one. */
function hexAt(p: string, a: number): number {
  let n = 0;
  for (let k = a; k < a + 8; k++) {
    const c = p.charCodeAt(k);
    const d = c <= 57 ? c - 48 : c - 87;
    if (d < 0 || d > 15 || (c > 57 && c < 97)) return NaN;
    n = n * 16 + d;
  }
  return n;
}
