// Owns the engine's picture of its account in the mode it trades: quote cash (exact), the open
// positions (the ledger's open trades) and the orders in flight (sent, fills not all booked). Loaded
// from the exchange's balances and the ledger, then kept current by the fills the engine records;
// reloaded whenever that chain may have been broken. Cash is kept "as if unsettled" for orders in
// flight — their reported fills are added back at load — so booking a fill applies it exactly once.
import type { Trade } from '../db/schema/index.js';
import type { Exchange, PriceSource } from '../exchange/types.js';
import { Decimal, ZERO, dec } from '../money.js';
import { unbookedValue, unfilledReservation, unsettleCash, type InFlightOrder } from './in-flight.js';
import type { Execution } from './ledger/record-execution.js';
import type { Mark } from './snapshot-rows.js';

export interface Position {
  tradeId: number;
  strategy: string;
  symbol: string;
  quantity: Decimal;
  /** The ledger's entry price, exact: the mark of a pair no candle has priced yet. */
  entryPriceExact: Decimal;
  /** Floats for the per-candle mark and exit checks (threshold checks, never stored). */
  entryPrice: number;
  quantityNum: number;
}

export class Portfolio {
  cash: Decimal = ZERO;
  #cashNum = 0;
  readonly positions = new Map<number, Position>();
  /** Orders sent whose fills are not all booked, by intent id. */
  readonly inFlight = new Map<number, InFlightOrder>();
  /**
   * The newest fill time in this picture (the exchange's time for a live fill): an equity snapshot
   * of it is never stamped earlier, or the ROI audit would not count as held what its cash paid for.
   */
  latestFillMs = Number.NEGATIVE_INFINITY;

  static async load(exchange: Exchange, open: Trade[], quote: string, inFlight: InFlightOrder[] = []): Promise<Portfolio> {
    const p = new Portfolio();
    const balances = await exchange.fetchBalances();
    let cash = dec(balances.find((b) => b.asset === quote)?.free ?? '0');
    for (const o of inFlight) {
      cash = cash.plus(unsettleCash(o));
      p.inFlight.set(o.intentId, o);
    }
    p.setCash(cash);
    for (const t of open) {
      p.addPosition(t);
      p.#filledAt(t.entryAt);
    }
    return p;
  }

  /** An order went out, or the exchange told more about one: it counts until its fills are booked. */
  track(order: InFlightOrder): void {
    this.inFlight.set(order.intentId, order);
  }

  /** Its fills are booked (or it never reached the exchange): it no longer counts as in flight. */
  settle(intentId: number): void {
    this.inFlight.delete(intentId);
  }

  entryInFlight(strategy: string, symbol: string): boolean {
    for (const o of this.inFlight.values()) if (o.purpose === 'entry' && o.strategy === strategy && o.symbol === symbol) return true;
    return false;
  }

  exitInFlight(tradeId: number): boolean {
    for (const o of this.inFlight.values()) if (o.purpose !== 'entry' && o.tradeId === tradeId) return true;
    return false;
  }

  /**
   * Quote the entries in flight still hold for their unfilled part (with the cost allowance): what a
   * new order must leave alone of the exchange's free balance. null when one cannot be priced yet.
   */
  reservedForOrders(prices: PriceSource): Decimal | null {
    let held = ZERO;
    for (const o of this.inFlight.values()) {
      const r = unfilledReservation(o, prices);
      if (r === null) return null;
      held = held.plus(r);
    }
    return held;
  }

  /**
   * Quote tied up by orders in flight (all but `exceptIntentId`): what their reported fills cost (cash
   * is kept as if unsettled), what entries still hold for their unfilled part, and sale fees.
   * null when an entry cannot be priced yet.
   */
  committed(prices: PriceSource, exceptIntentId?: number): Decimal | null {
    let total = ZERO;
    for (const o of this.inFlight.values()) {
      if (o.intentId === exceptIntentId) continue;
      const held = unfilledReservation(o, prices);
      if (held === null) return null;
      total = total.plus(held).plus(o.side === 'buy' ? unsettleCash(o) : o.feeQuote);
    }
    return total;
  }

  /** Cash a new entry may use: none while an entry in flight cannot be priced. */
  availableCash(prices: PriceSource): Decimal {
    const committed = this.committed(prices);
    return committed === null ? ZERO : this.cash.minus(committed);
  }

  setCash(value: Decimal): void {
    this.cash = value;
    this.#cashNum = value.toNumber();
  }

  addPosition(t: Pick<Trade, 'id' | 'strategy' | 'symbol' | 'quantity' | 'entryPrice'>): void {
    this.positions.set(t.id, {
      tradeId: t.id, strategy: t.strategy, symbol: t.symbol, quantity: dec(t.quantity), quantityNum: Number(t.quantity),
      entryPriceExact: dec(t.entryPrice), entryPrice: Number(t.entryPrice),
    });
  }

  #filledAt(at: Date): void {
    const ms = at.getTime();
    if (ms > this.latestFillMs) this.latestFillMs = ms;
  }

  applyEntry(trade: Trade, execution: Execution): void {
    this.#filledAt(execution.at);
    this.setCash(this.cash.minus(execution.quantity.times(execution.averagePrice)).minus(execution.feeQuote));
    this.addPosition(trade);
  }

  applyExit(tradeId: number, execution: Execution): void {
    this.#filledAt(execution.at);
    this.setCash(this.cash.plus(execution.quantity.times(execution.averagePrice)).minus(execution.feeQuote));
    this.positions.delete(tradeId);
  }

  /** An exit that filled only part of the position: the cash comes in, the rest stays open. */
  applyPartialExit(tradeId: number, execution: Execution, remaining: Decimal): void {
    this.#filledAt(execution.at);
    this.setCash(this.cash.plus(execution.quantity.times(execution.averagePrice)).minus(execution.feeQuote));
    const p = this.positions.get(tradeId);
    if (p) this.positions.set(tradeId, { ...p, quantity: remaining, quantityNum: remaining.toNumber() });
  }

  positionFor(strategy: string, symbol: string): Position | undefined {
    for (const p of this.positions.values()) if (p.strategy === strategy && p.symbol === symbol) return p;
    return undefined;
  }

  /** Open positions of a strategy, entries in flight included: maxOpenPositions counts both. */
  openCount(strategy: string): number {
    let n = 0;
    for (const p of this.positions.values()) if (p.strategy === strategy) n += 1;
    for (const o of this.inFlight.values()) if (o.purpose === 'entry' && o.strategy === strategy) n += 1;
    return n;
  }

  /**
   * Cash plus positions at their last close (entry price until a candle is seen), unbooked fills
   * included, in floats: for the per-candle risk check and gauges only. What is stored (equity
   * snapshots, breaches) comes from exactEquity.
   */
  equity(prices: PriceSource): number {
    let value = this.#cashNum;
    for (const p of this.positions.values()) value += p.quantityNum * (prices.lastCandle(p.symbol)?.close ?? p.entryPrice);
    for (const o of this.inFlight.values()) value += unbookedValue(o, prices).toNumber();
    return value;
  }

  /**
   * What exactEquity adds to the cash, position by position (quantity × last close, or entry price
   * before any): null while orders are in flight, whose unbooked fills count too.
   */
  marks(prices: PriceSource): Mark[] | null {
    if (this.inFlight.size > 0) return null;
    const out: Mark[] = [];
    for (const p of this.positions.values()) out.push({ quantity: p.quantity, price: prices.lastCandle(p.symbol)?.close ?? p.entryPriceExact });
    return out;
  }

  /** The same, exact, excluding one trade and its exit in flight (for capital_buffer at that trade's close). */
  exactEquity(prices: PriceSource, exceptTradeId?: number): Decimal {
    let value = this.cash;
    for (const p of this.positions.values()) {
      if (p.tradeId === exceptTradeId) continue;
      const close = prices.lastCandle(p.symbol)?.close;
      value = value.plus(p.quantity.times(close ?? p.entryPriceExact));
    }
    for (const o of this.inFlight.values()) {
      if (exceptTradeId !== undefined && o.tradeId === exceptTradeId && o.purpose !== 'entry') continue;
      value = value.plus(unbookedValue(o, prices));
    }
    return value;
  }
}
