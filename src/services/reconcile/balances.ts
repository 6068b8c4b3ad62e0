// Owns the balance side of reconciliation: what the ledger says the bot holds of each base asset
// (live buys minus sells) against what the exchange holds. The
// exchange may hold more (manual holdings, dust) — shown, not failed; holding less than the
// ledger says means the books are wrong or funds moved: that fails.
import { Dec } from '../../decimal.js';
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

export function ledgerHoldings(fills: readonly LedgerFill[]): Map<string, InstanceType<typeof Dec>> {
  const held = new Map<string, InstanceType<typeof Dec>>();
  for (const f of fills) {
    const base = f.symbol.split('/')[0]!;
    const signed = f.side === 'buy' ? new Dec(f.quantity) : new Dec(f.quantity).neg();
    held.set(base, (held.get(base) ?? new Dec(0)).plus(signed));
  }
  return held;
}

export function balanceDiffs(fills: readonly LedgerFill[], balances: readonly Balance[], tolerance = '0.00000001'): BalanceDiff[] {
  const held = ledgerHoldings(fills);
  return [...held].map(([asset, ledger]) => {
    const exchange = new Dec(balances.find((b) => b.asset === asset)?.total ?? '0');
    const diff = exchange.minus(ledger);
    const status = diff.abs().lte(tolerance) ? 'ok' : diff.isPositive() ? 'exchange_holds_more' : 'exchange_holds_less';
    return { asset, ledger: ledger.toFixed(), exchange: exchange.toFixed(), diff: diff.toFixed(), status };
  });
}
