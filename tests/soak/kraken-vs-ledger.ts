// Owns the after-the-kill comparisons of Kraken (the simulator's own order and trade lists) with the
// ledger: orders sharing one client order id, orders sent without one, and Kraken trades the
// ledger's live fills do not hold (or fills Kraken never made).
import type { SimOrder, SimTrade } from '../../src/simulator/types.js';

export interface LedgerFillRow {
  exchangeTradeId: string;
  clientOrderId: string;
}

export function duplicateClientOrderIds(orders: SimOrder[]): Array<{ clOrdId: string; txids: string[] }> {
  const byId = new Map<string, string[]>();
  for (const o of orders) if (o.cl_ord_id !== undefined) byId.set(o.cl_ord_id, [...(byId.get(o.cl_ord_id) ?? []), o.txid]);
  return [...byId].filter(([, txids]) => txids.length > 1).map(([clOrdId, txids]) => ({ clOrdId, txids }));
}

export const ordersWithoutClientId = (orders: SimOrder[]): string[] => orders.filter((o) => !o.cl_ord_id).map((o) => o.txid);

export function tradesNotInLedger(trades: SimTrade[], fills: LedgerFillRow[]): SimTrade[] {
  const booked = new Set(fills.map((f) => f.exchangeTradeId));
  return trades.filter((t) => !booked.has(t.txid));
}

export function fillsNotAtKraken(trades: SimTrade[], fills: LedgerFillRow[]): LedgerFillRow[] {
  const made = new Set(trades.map((t) => t.txid));
  return fills.filter((f) => !made.has(f.exchangeTradeId));
}
