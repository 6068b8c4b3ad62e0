// Owns the quick look at Kraken's open orders between full reconciliations: which of them no live
// intent explains (unknown_order) or the ledger says ended (order_closed_in_ledger) — compareWithKraken
// over the open orders alone, so it decides exactly as a full reconciliation does. The engine's
// monitor runs it on each probe and reconciles in full (under the order lock) when it finds any;
// `ctb reconcile` lists what it finds. Read-only: one OpenOrders call, one query.
import type { Db } from '../../../db/client.js';
import { liveIntentsFor } from '../../../db/queries/reconcile-ledger.js';
import type { OrderState } from '../../../exchange/types.js';
import { compareWithKraken, type Difference } from './differences.js';

/** The open orders Kraken listed that the bot cannot explain. */
export async function unexplainedOpenOrders(ctx: { db: Db }, openOrders: OrderState[]): Promise<Difference[]> {
  if (openOrders.length === 0) return [];
  const intents = await liveIntentsFor(ctx.db, openOrders.map((o) => o.exchangeOrderId), openOrders.map((o) => o.clientOrderId).filter((c) => c !== ''));
  return compareWithKraken({ openOrders, trades: [], intents, fills: [] });
}
