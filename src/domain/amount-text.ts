// Owns how amounts read to a person, on the terminal and in Slack alike: money to the cent
// (2 decimals, thousands grouped), percentages to 2 decimals, signs where a gain or loss is meant,
// crypto amounts as held. Exact decimal rounding (half away from zero), never binary floating point;
// machine output (--json, metrics, logs, the database) keeps the full values.
import { Decimal, groupThousands, parseDecimal, readableAmount } from '../money.js';

function fixed(value: string, dp: number): string | null {
  const d = parseDecimal(value.trim());
  if (d === undefined) return null;
  const text = d.toDecimalPlaces(dp, Decimal.ROUND_HALF_UP).toFixed(dp);
  const [int, frac] = text.replace('-', '').split('.');
  const sign = text.startsWith('-') && /[1-9]/.test(text) ? '-' : '';
  return `${sign}${groupThousands(int!)}${frac ? `.${frac}` : ''}`;
}

/** "-300.0332553" → "-300.03"; "10000" → "10,000.00"; not a number → as given. */
export function money(value: string | null | undefined, dp = 2): string {
  if (value === null || value === undefined) return '—';
  return fixed(value, dp) ?? value;
}

/** A + before a text that reads as a gain (not zero, not negative): "+12.30", "-300.03", "0.00". */
function gainSigned(text: string): string {
  return /^[1-9]|^0\.0*[1-9]/.test(text) ? `+${text}` : text;
}

/** money() with a + on gains: "+12.30", "-300.03", "0.00". */
export function signedMoney(value: string | null | undefined, dp = 2): string {
  return gainSigned(money(value, dp));
}

/** "11.1111" → "11.11%". */
export function pct(value: string | null | undefined, dp = 2): string {
  if (value === null || value === undefined) return '—';
  const text = fixed(value, dp);
  return text === null ? `${value}%` : `${text}%`;
}

/** pct() with a + on gains. */
export function signedPct(value: string | null | undefined, dp = 2): string {
  return gainSigned(pct(value, dp));
}

/** Decimals as people write them: trailing zeros of a padded quantity or price dropped. */
export function trimmed(value: string | null | undefined): string {
  if (value === null || value === undefined) return '—';
  return /^-?\d+\.\d*?0+$/.test(value) ? value.replace(/\.?0+$/, '') : value;
}

/**
 * A price as a trader reads it: to the cent at 1 and above ("68,019.24" for 68019.23764718, an
 * average entry), six significant digits below — the engine's trade lines' rule (readableAmount).
 */
export function price(value: string | null | undefined): string {
  if (value === null || value === undefined) return '—';
  const d = parseDecimal(value.trim());
  return d === undefined ? value : readableAmount(d);
}
