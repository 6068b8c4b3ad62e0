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

/**
 * An exact sum of decimal strings as one integer of units at the largest scale seen (BigInt), so a
 * ledger of 100,000 fills makes no decimal object per fill; a term that is not a plain decimal
 * ("1e-8") is added with Decimal instead. Exact either way.
 */
class ExactSum {
  #units = 0n;
  #scale = 0;
  #other: Decimal | null = null;

  add(text: string, negate: boolean): void {
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
    if (scale > this.#scale) {
      this.#units *= 10n ** BigInt(scale - this.#scale);
      this.#scale = scale;
    } else if (scale < this.#scale) {
      units *= 10n ** BigInt(this.#scale - scale);
    }
    this.#units += negate ? -units : units;
  }

  total(): Decimal {
    const sum = new Decimal(this.#units.toString()).div(new Decimal(10).pow(this.#scale));
    return this.#other ? sum.plus(this.#other) : sum;
  }
}

export function balanceDiffs(fills: readonly LedgerFill[], balances: readonly Balance[], tolerance = '0.00000001'): BalanceDiff[] {
  return [...ledgerHoldings(fills)].map(([asset, ledger]) => balanceDiff(asset, ledger, balances, tolerance));
}

/** One asset: what the ledger says the bot holds against the exchange's total of it. */
export function balanceDiff(asset: string, ledger: Decimal, balances: readonly Balance[], tolerance: Decimal | string): BalanceDiff {
  const exchange = new Decimal(balances.find((b) => b.asset === asset)?.total ?? '0');
  const diff = exchange.minus(ledger);
  const status = diff.abs().lte(tolerance) ? 'ok' : diff.isPositive() ? 'exchange_holds_more' : 'exchange_holds_less';
  return { asset, ledger: ledger.toFixed(), exchange: exchange.toFixed(), diff: diff.toFixed(), status };
}
