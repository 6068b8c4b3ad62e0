// Owns exact decimal arithmetic in scaled integers (BigInt) for the figures worked out on every
// candle: a replay writes an equity snapshot per candle, and decimal.js's add, multiply, divide and
// printing were most of a candle's work while a position was open. Each helper answers exactly what
// the Decimal configured in money.ts (50 significant digits, half-even) answers, or null when it
// cannot be sure to (a result past 50 significant digits, a quotient within reach of a rounding
// tie, a number printed with an exponent): the caller then asks decimal.js.

/** value = units × 10^-scale. */
export interface Fixed {
  readonly units: bigint;
  readonly scale: number;
}

const PRECISION = 50;
const POW10: bigint[] = [1n];
function pow10(n: number): bigint {
  for (let i = POW10.length; i <= n; i++) POW10.push(POW10[i - 1]! * 10n);
  return POW10[n]!;
}

const NEAR_HALF = 10n ** 42n;
const PLAIN = /^(-?)(\d+)(?:\.(\d+))?$/;

/** A plain decimal text ("-12.5", "3"), as str() and a number's toString() print them; null otherwise. */
export function parseFixed(text: string): Fixed | null {
  const m = PLAIN.exec(text);
  if (!m) return null;
  const frac = m[3] ?? '';
  const units = BigInt(m[2]! + frac);
  return { units: m[1] ? -units : units, scale: frac.length };
}

/** A float as decimal.js reads it (its shortest round-trip text); null when that text has an exponent. */
export function fixedOfNumber(value: number): Fixed | null {
  return Number.isFinite(value) ? parseFixed(String(value)) : null;
}

/** Significant digits, trailing zeros not counted (decimal.js keeps none). */
function significantDigits(units: bigint): number {
  let s = (units < 0n ? -units : units).toString();
  let end = s.length;
  while (end > 1 && s.charCodeAt(end - 1) === 48) end--;
  if (end !== s.length) s = s.slice(0, end);
  return units === 0n ? 0 : s.length;
}

const fits = (f: Fixed): Fixed | null => (significantDigits(f.units) <= PRECISION ? f : null);

function aligned(a: Fixed, b: Fixed): [bigint, bigint, number] {
  if (a.scale === b.scale) return [a.units, b.units, a.scale];
  return a.scale > b.scale ? [a.units, b.units * pow10(a.scale - b.scale), a.scale] : [a.units * pow10(b.scale - a.scale), b.units, b.scale];
}

/** a + b, or null past 50 significant digits (where decimal.js would round). */
export function addFixed(a: Fixed, b: Fixed): Fixed | null {
  const [x, y, scale] = aligned(a, b);
  return fits({ units: x + y, scale });
}

/** a × b, or null past 50 significant digits. */
export function mulFixed(a: Fixed, b: Fixed): Fixed | null {
  return fits({ units: a.units * b.units, scale: a.scale + b.scale });
}

export function compareFixed(a: Fixed, b: Fixed): number {
  const [x, y] = aligned(a, b);
  return x === y ? 0 : x < y ? -1 : 1;
}

/** What Decimal#toFixed() prints: every digit, no exponent, no trailing zeros. */
export function fixedText(f: Fixed): string {
  const negative = f.units < 0n;
  let digits = (negative ? -f.units : f.units).toString();
  let scale = f.scale;
  while (scale > 0 && digits.length > 1 && digits.charCodeAt(digits.length - 1) === 48) {
    digits = digits.slice(0, -1);
    scale--;
  }
  if (digits === '0') return '0';
  let text: string;
  if (scale === 0) text = digits;
  else if (digits.length > scale) text = `${digits.slice(0, digits.length - scale)}.${digits.slice(digits.length - scale)}`;
  else text = `0.${'0'.repeat(scale - digits.length)}${digits}`;
  return negative ? `-${text}` : text;
}

/**
 * The drawdown of `equity` from `peak` in percent, printed with 6 decimals — what
 * `max(0, (peak − equity) / peak × 100).toFixed(6)` prints with money.ts's Decimal — or null when
 * the answer could differ from it: equity at or below zero, a difference past 50 significant
 * digits, or a quotient so near a half-way point of the 6th decimal that decimal.js's 50-digit
 * division could round it the other way.
 */
export function drawdownPctText(peak: Fixed, equity: Fixed): string | null {
  if (peak.units <= 0n) return '0.000000';
  if (equity.units <= 0n) return null;
  const [p, e] = aligned(peak, equity);
  const diff = p - e;
  if (diff <= 0n) return '0.000000';
  if (significantDigits(diff) > PRECISION) return null;
  // In millionths of a percent: diff / p × 100 × 10^6, rounded half-even.
  const num = diff * 100_000_000n;
  let q = num / p;
  const twice = (num - q * p) * 2n;
  const fromHalf = twice > p ? twice - p : p - twice;
  // The division is rounded to 50 significant digits first: within 10^-41 of a millionth of that
  // half-way point (the quotient is below 1), that rounding could decide it.
  if (fromHalf * NEAR_HALF <= p) return null;
  if (twice > p) q += 1n;
  const text = q.toString().padStart(7, '0');
  return `${text.slice(0, -6)}.${text.slice(-6)}`;
}
