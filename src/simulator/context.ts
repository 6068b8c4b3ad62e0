// Owns what every part of the simulator shares: the account state, the market, the counters, the
// settings that shape fills, and the clock. Built once by KrakenSimulator.
import type { Random } from './ids.js';
import type { Decimal } from './format.js';
import type { PricePath } from './price-path.js';
import type { RateCounters } from './rate-limits.js';
import type { SimExecution, SimState } from './types.js';

export interface FillSettings {
  /** Percent of the trade's cost, charged in the quote currency (Kraken's default). */
  makerFeePct: Decimal;
  takerFeePct: Decimal;
  /** Fraction of the price a market order pays above (buy) or receives below (sell) the last price. */
  slippage: Decimal;
  /** A taker order fills in this many slices: the first at once, the others on the next ticks. */
  fillSlices: number;
}

export interface SimContext {
  state: SimState;
  path: PricePath;
  rates: RateCounters;
  fills: FillSettings;
  /** Epoch milliseconds. */
  now(): number;
  random: Random;
  /** TradesHistory / ClosedOrders page size (Kraken: 50). */
  pageSize: number;
  /** Kraken's trade_id: an increasing integer per trade. */
  seq: { tradeId: number };
  /** Something changed that a state file should keep. */
  changed(): void;
  /** WebSocket tokens GetWebSocketsToken issued: token → epoch milliseconds it was issued. */
  wsTokens: Map<string, number>;
  /** An order event or a fill, for the executions channel (ws-executions.ts) to stream. */
  execution(event: SimExecution): void;
}
