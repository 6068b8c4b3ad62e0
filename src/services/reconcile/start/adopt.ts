// Owns `ctb reconcile adopt <txid>`: making an unexplained order or fill known, so the ledger and
// Kraken agree — and refusing what cannot be adopted safely. Always against a fresh look at Kraken
// (read now, not the stored list; it records nothing, so a refused adopt changes nothing — no block, no
// halt), then reconciled again so a resolved block lifts and what remains is recorded.
//   - an open order no intent knows: recorded as an open intent of strategy "external", followed by
//     the bot's resolution by its client order id — refused when it has none (the bot could not follow
//     it) or when it sells a pair the bot holds positions in (no way to tell which position it reduces);
//   - an open order the ledger says ended: its intent is opened again for resolution to follow;
//   - fills of an order no intent knows (the order has ended): an "external" intent and its fills in
//     the ledger; a buy opens an external position (counted in exposure), a sell is refused while the
//     bot holds positions in that pair;
//   - fills of the bot's own order that the ledger lacks: recorded through the order's own ledger path;
//   - a ledger fill that disagrees with Kraken, or that Kraken does not have: refused (correct by hand).
import type { Database } from '../../../db/client.js';
import { deletePendingIntent, insertIntent, intentById as readIntent } from '../../../db/queries/reconcile-ledger.js';
import type { OrderIntent } from '../../../db/schema/index.js';
import { reopenIntent } from '../../../engine/ledger/intents.js';
import { openTrades } from '../../../engine/ledger/trades.js';
import { withOrderLock } from '../../../engine/order-lock.js';
import { recordOrder } from '../../../engine/order-executor.js';
import { Portfolio } from '../../../engine/portfolio.js';
import { AppError } from '../../../errors.js';
import type { Exchange, ExchangeTrade, OrderState } from '../../../exchange/types.js';
import { Decimal } from '../../../money.js';
import type { Difference } from './differences.js';
import { runReconciliation, type ReconciliationDeps, type ReconciliationRun } from './run.js';

export const EXTERNAL_STRATEGY = 'external';

export interface AdoptResult {
  ok: boolean;
  txid: string;
  /** What was written, one line each. */
  adopted: string[];
  summary: string;
  /** The reconciliation after adopting: whether the block is lifted, what remains. */
  after: Pick<ReconciliationRun, 'ok' | 'differences' | 'reconciledThrough' | 'halt'>;
}

/** Every refusal comes before anything is written (the look at Kraken first records nothing): it says so. */
const refuse = (code: string, message: string, hint?: string) => new AppError('conflict', code, `${message} Nothing was changed.`, hint ? { hint } : {});

/**
 * Under the order lock, as the reconciliation monitor runs: otherwise the monitor's own run, let in by
 * what this one writes, could pass between the adopt's write and its check and lift the halt itself,
 * and the operator would be told only that reconciliation passes, not that the halt is lifted.
 */
export function adoptFromKraken(ctx: ReconciliationDeps & { database: Database }, txid: string, opts: { actor: string; exchange?: Exchange }): Promise<AdoptResult> {
  return withOrderLock(ctx, () => adopt(ctx, txid, opts));
}

async function adopt(ctx: ReconciliationDeps, txid: string, opts: { actor: string; exchange?: Exchange }): Promise<AdoptResult> {
  const exchange = opts.exchange ?? ctx.exchanges.kraken();
  const actor = opts.actor;
  // A look only: a refused adopt must change nothing — no block, no halt — and one that adopts
  // records the standing after it, below.
  const fresh = await runReconciliation(ctx, { cause: 'operator', exchange, record: false });
  const matches = fresh.differences.filter((d) => d.id === txid || d.orderId === txid);
  if (matches.length === 0) {
    throw refuse('nothing_to_adopt', `Kraken ${txid} is not among the differences reconciliation cannot explain${fresh.ok ? ' (Kraken shows none now)' : ''}.`,
      fresh.ok ? 'Run ctb reconcile: it lifts a block once nothing is unexplained.' : 'Run ctb reconcile to see them; adopt names an order txid or a trade id from that list.');
  }
  const unsafe = matches.find((d) => d.kind === 'fill_mismatch' || d.kind === 'fill_not_on_kraken');
  if (unsafe) {
    throw refuse('cannot_adopt', `Cannot adopt ${unsafe.id}: ${unsafe.summary}. The ledger recorded a fill Kraken disagrees with; adopting cannot make them agree.`,
      "Check the trade in Kraken's history and correct the ledger row by hand, then ctb reconcile again.");
  }
  const orderId = matches[0]!.orderId ?? txid;
  const ofOrder = fresh.differences.filter((d) => d.orderId === orderId);
  const adopted: string[] = [];
  const open = ofOrder.find((d) => d.kind === 'unknown_order' || d.kind === 'order_closed_in_ledger');
  const fillDiffs = ofOrder.filter((d) => d.kind === 'unknown_fill' || d.kind === 'unrecorded_fill');
  const trades = fresh.observed.trades.filter((t) => t.orderId === orderId && fillDiffs.some((d) => d.id === t.id));
  const now = ctx.clock.now();

  let intent: OrderIntent | null = null;
  if (open?.kind === 'order_closed_in_ledger') {
    await reopenIntent(ctx.db, { id: open.intentId!, at: now, error: `reopened by ${actor}: Kraken lists the order open` });
    adopted.push(`intent #${open.intentId} opened again: Kraken lists order ${orderId} open (it was ${open.intentStatus})`);
    intent = await intentById(ctx, open.intentId!);
  } else if (open?.kind === 'unknown_order') {
    // The bot follows an open order by its client order id (resolution asks Kraken by cl_ord_id): adopt
    // only an order Kraken finds that way, or the bot would mark it "never placed" on the next look.
    const followed = open.clientOrderId ? await exchange.fetchOrderByClientId(open.clientOrderId, open.symbol).catch(() => null) : null;
    if (!open.clientOrderId || followed?.exchangeOrderId !== orderId) {
      throw refuse('cannot_adopt', `Cannot adopt Kraken order ${orderId}: it has no client order id Kraken finds it by, and the bot follows its orders by client order id.`,
        `Cancel it (ctb reconcile cancel ${orderId}) or close it on Kraken yourself.`);
    }
    await refuseSellBesidePositions(ctx, open);
    intent = await insertExternalIntent(ctx, actor, open, { clientOrderId: open.clientOrderId, status: 'open', quantity: open.quantity });
    adopted.push(`open ${open.side} ${open.quantity} ${open.symbol} (order ${orderId}) recorded as intent #${intent.id} of strategy "${EXTERNAL_STRATEGY}", followed by client order id ${open.clientOrderId}`);
  }

  if (fillDiffs.length > 0) {
    const known = fillDiffs.find((d) => d.kind === 'unrecorded_fill');
    if (!intent && known) intent = await intentById(ctx, known.intentId!);
    if (!intent) {
      const first = fillDiffs[0]!;
      await refuseSellBesidePositions(ctx, first);
      const total = trades.reduce((s, t) => s.plus(t.quantity), new Decimal(0)).toFixed();
      intent = await insertExternalIntent(ctx, actor, first, { clientOrderId: `ext-${orderId}`.slice(0, 64), status: 'pending', quantity: total });
    }
    const order: OrderState = {
      exchangeOrderId: orderId, clientOrderId: intent.clientOrderId, symbol: intent.symbol, side: intent.side,
      status: open ? 'open' : 'closed', quantity: intent.quantity, filledQuantity: trades.reduce((s, t) => s.plus(t.quantity), new Decimal(0)).toFixed(),
      averagePrice: null, trades: withIntentOrder(trades, orderId),
    };
    const portfolio = await Portfolio.load(exchange, await openTrades(ctx.db, 'live'), ctx.config.QUOTE_CURRENCY);
    const created = intent.strategy === EXTERNAL_STRATEGY && intent.status === 'pending' ? intent.id : null;
    try {
      await recordOrder({ ctx, portfolio }, intent, order, { cashSettled: true });
    } catch (err) {
      // An external intent left pending would be looked up on Kraken by a client order id it never had.
      if (created !== null) await deletePendingIntent(ctx.db, created);
      throw err;
    }
    adopted.push(`${trades.length} Kraken fill(s) of order ${orderId} recorded in the ledger under intent #${intent.id} (${trades.map((t) => t.id).join(', ')})`);
  }

  const after = await runReconciliation(ctx, { cause: 'operator', exchange, by: actor });
  const rest = after.differences.length;
  ctx.logger.warn({ actor, txid, adopted }, 'reconciliation difference adopted');
  return {
    ok: true, txid, adopted,
    summary: `${adopted.join('; ')}. ${rest === 0 ? `Reconciliation passes${after.halt === 'lifted' ? ': the reconciliation halt is lifted' : ''}.` : `${rest} difference(s) remain (ctb reconcile).`}`,
    after: { ok: after.ok, differences: after.differences, reconciledThrough: after.reconciledThrough, halt: after.halt },
  };
}

async function intentById(ctx: Pick<ReconciliationDeps, 'db'>, id: number): Promise<OrderIntent> {
  const row = await readIntent(ctx.db, id);
  if (!row) throw new AppError('internal', 'intent_missing', `Order intent #${id} vanished while adopting.`);
  return row;
}

async function refuseSellBesidePositions(ctx: Pick<ReconciliationDeps, 'db'>, d: Difference): Promise<void> {
  if (d.side !== 'sell') return;
  const held = (await openTrades(ctx.db, 'live')).filter((t) => t.symbol === d.symbol);
  if (held.length > 0) {
    throw refuse('cannot_adopt', `Cannot adopt ${d.id}: it sells ${d.symbol}, and the bot holds ${held.length} open live position(s) in it (trade ${held.map((t) => `#${t.id}`).join(', ')}); there is no telling which one it reduced.`,
      d.kind === 'unknown_order' ? `Cancel it (ctb reconcile cancel ${d.id}), or close the bot's positions first.` : "Correct the bot's positions by hand, then ctb reconcile again.");
  }
}

async function insertExternalIntent(ctx: Pick<ReconciliationDeps, 'db' | 'clock'>, actor: string, d: Difference, p: { clientOrderId: string; status: OrderIntent['status']; quantity: string }): Promise<OrderIntent> {
  const now = ctx.clock.now();
  return insertIntent(ctx.db, {
    clientOrderId: p.clientOrderId, mode: 'live', feed: 'kraken', strategy: EXTERNAL_STRATEGY, symbol: d.symbol, side: d.side,
    purpose: d.side === 'buy' ? 'entry' : 'exit', type: 'limit', quantity: p.quantity, limitPrice: null, status: p.status,
    exchangeOrderId: d.orderId, tradeId: null, error: `adopted by ${actor}`, createdAt: now, updatedAt: now,
  });
}

/** Trades as the ledger path expects them: each carries the order's txid. */
function withIntentOrder(trades: ExchangeTrade[], orderId: string): ExchangeTrade[] {
  return trades.map((t) => ({ ...t, orderId: t.orderId || orderId }));
}
