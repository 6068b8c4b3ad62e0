// Owns how the simulator writes numbers and times the way Kraken does: amounts as fixed-decimal
// strings, times as unix seconds with four decimals. All arithmetic is exact (decimal.js).
import { Decimal } from '../money.js';

export { Decimal };

export const d = (v: string | number | Decimal): Decimal => new Decimal(v);

/** `v` with exactly `places` decimals (half-even), as Kraken prints amounts. */
export function fixed(v: string | number | Decimal, places: number): string {
  return d(v).toFixed(places, Decimal.ROUND_HALF_EVEN);
}

/** Rounds `v` to a multiple of `step` (half-even), keeping the step's decimals. */
export function toStep(v: Decimal, step: string): Decimal {
  const s = d(step);
  return v.div(s).toDecimalPlaces(0, Decimal.ROUND_HALF_EVEN).mul(s);
}

/** Decimals in a plain decimal string ("0.00005" → 5). */
export function decimalsOf(text: string): number {
  const i = text.indexOf('.');
  return i < 0 ? 0 : text.length - i - 1;
}

/** Kraken's time stamps: unix seconds with four decimals, as a JSON number. */
export function unixTime(ms: number): number {
  return Math.round(ms / 0.1) / 10_000;
}

/** ISO 8601 without milliseconds (CancelAllOrdersAfter, SystemStatus). */
export function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
}

/** A strictly positive decimal from outside (form field, flag), or undefined. */
export function positiveDecimal(text: unknown): Decimal | undefined {
  if (typeof text !== 'string' || !/^\d+(\.\d+)?$/.test(text.trim())) return undefined;
  const v = d(text.trim());
  return v.gt(0) ? v : undefined;
}
