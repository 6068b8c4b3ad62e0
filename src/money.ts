// Owns exact money arithmetic: one decimal.js configuration for the whole project. Amounts cross
// module and database boundaries as plain decimal strings (numeric in PostgreSQL), never as floats.
import { Decimal as DecimalJs } from 'decimal.js';

export const Decimal = DecimalJs.clone({ precision: 50, rounding: DecimalJs.ROUND_HALF_EVEN, toExpNeg: -40, toExpPos: 40 });
export type Decimal = InstanceType<typeof Decimal>;

export const ZERO = new Decimal(0);

export function dec(value: string | number | Decimal): Decimal {
  return new Decimal(value);
}

/** A plain decimal string (no exponent), as the database and the Exchange port expect. */
export function str(value: Decimal): string {
  return value.toFixed();
}

/** Parses a decimal string from outside (config, exchange, CLI); undefined when it is not one. */
export function parseDecimal(text: unknown): Decimal | undefined {
  if (typeof text !== 'string' && typeof text !== 'number') return undefined;
  try {
    const d = new Decimal(text);
    return d.isFinite() ? d : undefined;
  } catch {
    return undefined;
  }
}

export function sum(values: Decimal[]): Decimal {
  return values.reduce((acc, v) => acc.plus(v), ZERO);
}

/**
 * "1234567" → "1,234,567": the digits of a whole number (no sign, no fraction) grouped by thousands.
 * By hand: toLocaleString builds an Intl formatter on every call, a few percent of a replay's CPU at
 * one line per order.
 */
export function groupThousands(digits: string): string {
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** 65,146.30 — two decimals at and above 1, six significant digits below (small-priced coins). */
export function readableAmount(value: Decimal | string | number): string {
  const d = dec(value);
  if (d.abs().gte(1) || d.isZero()) {
    const [whole, fraction] = d.toFixed(2).split('.') as [string, string];
    const sign = whole.startsWith('-') ? '-' : '';
    const digits = sign ? whole.slice(1) : whole;
    return `${sign}${groupThousands(digits)}.${fraction}`;
  }
  return d.toSignificantDigits(6).toFixed();
}
