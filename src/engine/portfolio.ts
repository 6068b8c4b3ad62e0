// Owns the engine's picture of its account in the mode it trades: quote cash (exact) and the open
// positions (the ledger's open trades). Loaded from the exchange's balances and the ledger, then kept
// current by the fills the engine records; reloaded whenever that chain may have been broken.
import type { Trade } from '../db/schema/index.js';
import type { Exchange, PriceSource } from '../exchange/types.js';
import { Decimal, ZERO, dec } from '../money.js';
import type { Execution } from './ledger/record-execution.js';

export interface Position {
  tradeId: number;
  strategy: string;
  symbol: string;
  quantity: Decimal;
  entryPrice: number;
  /** Floats for the per-candle mark (a threshold check); the ledger keeps the exact values. */
  quantityNum: number;
}

export class Portfolio {
  cash: Decimal = ZERO;
  #cashNum = 0;
  readonly positions = new Map<number, Position>();

  static async load(exchange: Exchange, open: Trade[], quote: string): Promise<Portfolio> {
    const p = new Portfolio();
    const balances = await exchange.fetchBalances();
    p.setCash(dec(balances.find((b) => b.asset === quote)?.free ?? '0'));
    for (const t of open) p.addPosition(t);
    return p;
  }

  setCash(value: Decimal): void {
    this.cash = value;
    this.#cashNum = value.toNumber();
  }

  addPosition(t: Pick<Trade, 'id' | 'strategy' | 'symbol' | 'quantity' | 'entryPrice'>): void {
    this.positions.set(t.id, {
      tradeId: t.id, strategy: t.strategy, symbol: t.symbol, quantity: dec(t.quantity), quantityNum: Number(t.quantity), entryPrice: Number(t.entryPrice),
    });
  }

  applyEntry(trade: Trade, execution: Execution): void {
    this.setCash(this.cash.minus(execution.quantity.times(execution.averagePrice)).minus(execution.feeQuote));
    this.addPosition(trade);
  }

  applyExit(tradeId: number, execution: Execution): void {
    this.setCash(this.cash.plus(execution.quantity.times(execution.averagePrice)).minus(execution.feeQuote));
    this.positions.delete(tradeId);
  }

  /** An exit that filled only part of the position: the cash comes in, the rest stays open. */
  applyPartialExit(tradeId: number, execution: Execution, remaining: Decimal): void {
    this.setCash(this.cash.plus(execution.quantity.times(execution.averagePrice)).minus(execution.feeQuote));
    const p = this.positions.get(tradeId);
    if (p) this.positions.set(tradeId, { ...p, quantity: remaining, quantityNum: remaining.toNumber() });
  }

  positionFor(strategy: string, symbol: string): Position | undefined {
    for (const p of this.positions.values()) if (p.strategy === strategy && p.symbol === symbol) return p;
    return undefined;
  }

  openCount(strategy: string): number {
    let n = 0;
    for (const p of this.positions.values()) if (p.strategy === strategy) n += 1;
    return n;
  }

  /** Cash plus positions at their last close (entry price until a candle is seen). */
  equity(prices: PriceSource): number {
    let value = this.#cashNum;
    for (const p of this.positions.values()) value += p.quantityNum * (prices.lastCandle(p.symbol)?.close ?? p.entryPrice);
    return value;
  }

  /** The same, exact, excluding one trade (for capital_buffer at that trade's close). */
  exactEquity(prices: PriceSource, exceptTradeId?: number): Decimal {
    let value = this.cash;
    for (const p of this.positions.values()) {
      if (p.tradeId === exceptTradeId) continue;
      value = value.plus(p.quantity.times(prices.lastCandle(p.symbol)?.close ?? p.entryPrice));
    }
    return value;
  }
}
