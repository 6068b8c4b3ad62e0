// Owns the engine's trade lines: one info line when an order is sent, one when its fills are
// booked, one when a trade closes (with its realised PnL). They are what a person watching the bot
// reads, so the message says it in words and the fields carry the same facts for machines.
import type { Logger } from '../logger.js';
import type { OrderIntent, Trade } from '../db/schema/index.js';
import { dec, readableAmount, type Decimal } from '../money.js';
import type { Execution } from './ledger/record-execution.js';

export { readableAmount } from '../money.js';

function signed(value: Decimal, text: string): string {
  return value.gt(0) ? `+${text}` : text;
}

function duration(ms: number): string {
  if (ms < 60_000) return `${Math.max(0, Math.round(ms / 1000))}s`;
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)}m`;
  if (ms < 86_400_000) return `${Math.floor(ms / 3_600_000)}h${String(Math.round((ms % 3_600_000) / 60_000)).padStart(2, '0')}m`;
  return `${(ms / 86_400_000).toFixed(1)}d`;
}

export interface OrderLine {
  mode: string;
  purpose: 'entry' | 'exit' | 'flatten';
  strategy: string;
  symbol: string;
  side: 'buy' | 'sell';
  quantity: Decimal | string;
  clientOrderId: string;
  reason?: string;
  tradeId?: number | null;
}

export function logOrderSent(logger: Logger, o: OrderLine): void {
  const why = o.reason ? `: ${o.reason}` : '';
  const trade = o.purpose !== 'entry' && o.tradeId != null ? ` of trade #${o.tradeId}` : '';
  logger.info(
    { event: 'order', mode: o.mode, purpose: o.purpose, strategy: o.strategy, symbol: o.symbol, side: o.side, quantity: dec(o.quantity).toFixed(), clientOrderId: o.clientOrderId, ...(o.reason ? { reason: o.reason } : {}) },
    `${o.mode} order: ${o.side} ${dec(o.quantity).toFixed()} ${o.symbol} (${o.purpose}${trade}, ${o.strategy}${why})`,
  );
}

/** The fill line of a booked order and, when it closed a trade, the close line with its PnL. */
export function logExecution(logger: Logger, intent: OrderIntent, execution: Execution, trade: Trade | null, quote: string): void {
  const base = intent.symbol.split('/')[0] ?? intent.symbol;
  const opened = intent.purpose === 'entry' && trade ? ` → trade #${trade.id} open` : '';
  logger.info(
    {
      event: 'fill', mode: intent.mode, symbol: intent.symbol, side: intent.side, quantity: execution.quantity.toFixed(), price: execution.averagePrice.toFixed(),
      fee: execution.feeQuote.toFixed(), currency: quote, clientOrderId: intent.clientOrderId, ...(trade ? { tradeId: trade.id } : {}),
    },
    `${intent.mode} fill: ${intent.side} ${execution.quantity.toFixed()} ${base} @ ${readableAmount(execution.averagePrice)} ${quote}, fee ${readableAmount(execution.feeQuote)} ${quote}${opened}`,
  );
  // An exit and a flatten (the incident's close positions) both close a trade.
  if (intent.purpose === 'entry' || !trade || trade.status !== 'closed' || trade.realizedPnl === null) return;
  const pnl = dec(trade.realizedPnl);
  const cost = dec(trade.quantity).times(trade.entryPrice);
  const pct = cost.gt(0) ? pnl.div(cost).times(100) : null;
  const held = trade.exitAt ? new Date(trade.exitAt).getTime() - new Date(trade.entryAt).getTime() : null;
  logger.info(
    {
      event: 'close', mode: trade.mode, tradeId: trade.id, strategy: trade.strategy, symbol: trade.symbol, entryPrice: trade.entryPrice, exitPrice: trade.exitPrice,
      realizedPnl: trade.realizedPnl, currency: quote, ...(pct ? { pnlPct: Number(pct.toFixed(4)) } : {}), ...(held !== null ? { heldMs: held } : {}),
    },
    `${trade.mode} close: trade #${trade.id} ${trade.symbol} ${trade.strategy} ${readableAmount(trade.entryPrice)} → ${readableAmount(trade.exitPrice ?? '0')}, ` +
      `PnL ${signed(pnl, readableAmount(pnl))} ${quote}${pct ? ` (${signed(pct, pct.toFixed(2))} %)` : ''}${held !== null ? ` after ${duration(held)}` : ''}`,
  );
}
