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
