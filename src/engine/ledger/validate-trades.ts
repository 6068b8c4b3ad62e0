// Owns the closed-trade check (the checklist's validate_closed_trades): every closed trade must exit
// after its entry, carry a realized PnL equal to (exit − entry) × quantity − fees, agree with the
// fills recorded for its orders, and have capital_buffer set and non-negative. Each offending trade
// is named with every problem found.
import type { Db } from '../../db/client.js';
import { fillSumsByIntent, intentTimes, splitTradeSumsByEntryIntent } from '../../db/queries/ledger-trades.js';
import type { Trade } from '../../db/schema/index.js';
import { type Decimal, dec } from '../../money.js';
import { closedTrades } from './trades.js';

/** PnL is compared to this many quote units: averages of several fills are rounded at 18 places. */
const TOLERANCE = dec('0.00000001');

export interface TradeProblem {
  tradeId: number;
  symbol: string;
  mode: string;
  feed: string;
  strategy: string;
  problems: string[];
}

export interface TradeValidation {
  checked: number;
  offending: TradeProblem[];
}

interface FillTotals {
  quantity: Decimal;
  fee: Decimal;
}

async function fillTotalsByIntent(db: Db): Promise<Map<number, FillTotals>> {
  const rows = await fillSumsByIntent(db);
  return new Map(rows.map((r) => [r.intentId, { quantity: dec(r.quantity), fee: dec(r.fee) }]));
}

async function intentCreatedAt(db: Db): Promise<Map<number, Date>> {
  const rows = await intentTimes(db);
  return new Map(rows.map((r) => [r.id, r.createdAt]));
}

/**
 * Quantity and entry fee of every trade born of one entry order. A partial exit splits a trade into
 * a closed part and an open rest that share the entry order: together they must match its fills.
 */
async function tradeTotalsByEntryIntent(db: Db): Promise<Map<number, FillTotals>> {
  const rows = await splitTradeSumsByEntryIntent(db);
  return new Map(rows.map((r) => [r.entryIntentId, { quantity: dec(r.quantity), fee: dec(r.fee) }]));
}

export function checkTrade(
  t: Trade, ctx: { fills: Map<number, FillTotals>; intents: Map<number, Date>; splitFamilies?: Map<number, FillTotals> },
): string[] {
  const problems: string[] = [];
  const num = (v: string | null) => (v === null ? null : dec(v));
  const qty = dec(t.quantity);
  const entry = dec(t.entryPrice);
  const exit = num(t.exitPrice);
  const exitFee = num(t.exitFee);
  const pnl = num(t.realizedPnl);
  const buffer = num(t.capitalBuffer);
  if (qty.lte(0)) problems.push(`quantity must be positive, is ${qty.toFixed()}`);
  if (entry.lte(0)) problems.push(`entry price must be positive, is ${entry.toFixed()}`);
  if (exit === null) problems.push('exit price is missing');
  else if (exit.lte(0)) problems.push(`exit price must be positive, is ${exit.toFixed()}`);
  if (dec(t.entryFee).lt(0)) problems.push(`entry fee must not be negative, is ${t.entryFee}`);
  if (exitFee === null) problems.push('exit fee is missing');
  else if (exitFee.lt(0)) problems.push(`exit fee must not be negative, is ${exitFee.toFixed()}`);
  if (!t.exitAt) problems.push('exit time is missing');
  else if (t.exitAt.getTime() < t.entryAt.getTime()) problems.push(`exit (${t.exitAt.toISOString()}) is before entry (${t.entryAt.toISOString()})`);
  const entryIntentAt = ctx.intents.get(t.entryIntentId);
  const exitIntentAt = t.exitIntentId === null ? undefined : ctx.intents.get(t.exitIntentId);
  if (t.exitIntentId === null) problems.push('no exit order is linked to the trade');
  else if (entryIntentAt && exitIntentAt && exitIntentAt.getTime() < entryIntentAt.getTime()) problems.push('the exit order was created before the entry order');
  if (pnl === null) problems.push('realized PnL is missing');
  else if (exit !== null && exitFee !== null) {
    const expected = exit.minus(entry).times(qty).minus(t.entryFee).minus(exitFee);
    if (pnl.minus(expected).abs().gt(TOLERANCE)) {
      problems.push(`realized PnL ${pnl.toFixed()} does not match (exit − entry) × quantity − fees = ${expected.toFixed()}`);
    }
  }
  if (buffer === null) problems.push('capital_buffer is missing');
  else if (buffer.lt(0)) problems.push(`capital_buffer is negative (${buffer.toFixed()}): the close left less cash than the reserve`);
  const entryFills = ctx.fills.get(t.entryIntentId);
  if (!entryFills) problems.push('no fills are recorded for the entry order');
  else {
    const family = ctx.splitFamilies?.get(t.entryIntentId);
    const whose = family ? 'the trades split from this entry say' : 'the trade says';
    const tradeQty = family ? family.quantity : qty;
    const tradeFee = family ? family.fee : dec(t.entryFee);
    if (!entryFills.quantity.eq(tradeQty)) problems.push(`entry fills total ${entryFills.quantity.toFixed()}, ${whose} ${tradeQty.toFixed()}`);
    if (entryFills.fee.minus(tradeFee).abs().gt(TOLERANCE)) problems.push(`entry fills' fees total ${entryFills.fee.toFixed()}, ${whose} ${tradeFee.toFixed()}`);
  }
  if (t.exitIntentId !== null) {
    const exitFills = ctx.fills.get(t.exitIntentId);
    if (!exitFills) problems.push('no fills are recorded for the exit order');
    else if (exitFee !== null && exitFills.fee.minus(exitFee).abs().gt(TOLERANCE)) {
      problems.push(`exit fills' fees total ${exitFills.fee.toFixed()}, the trade says ${exitFee.toFixed()}`);
    }
  }
  return problems;
}

export async function validateClosedTrades(db: Db): Promise<TradeValidation> {
  const [list, fillTotals, intents, splitFamilies] = [await closedTrades(db), await fillTotalsByIntent(db), await intentCreatedAt(db), await tradeTotalsByEntryIntent(db)];
  const offending: TradeProblem[] = [];
  for (const t of list) {
    const problems = checkTrade(t, { fills: fillTotals, intents, splitFamilies });
    if (problems.length > 0) offending.push({ tradeId: t.id, symbol: t.symbol, mode: t.mode, feed: t.feed, strategy: t.strategy, problems });
  }
  return { checked: list.length, offending };
}
