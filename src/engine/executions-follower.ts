// Owns booking live fills the moment the exchange streams them (Kraken's executions channel): each
// order an event changed is matched to its unresolved intent (by exchange order id, else client order
// id), joined with the fills the ledger already holds for it (REST may have booked some, and a
// reconnect snapshot lists only the last 50 trades), and recorded through the same path REST answers
// take (recordOrder → recordExecution), under the order lock — so a trade seen on the socket and by
// REST polling is booked once, by its Kraken trade id. The REST follower stays on beside it: it
// resolves what the stream cannot (unknown orders, anything missed while the link was down).
import type { Database } from '../db/client.js';
import { unresolvedLiveIntentFor } from '../db/queries/ledger-intents.js';
import { liveFillsOfIntent } from '../db/queries/ledger-trades.js';
import type { OrderIntent } from '../db/schema/index.js';
import type { Exchange, ExchangeTrade, ExecutionsWatch, OrderState } from '../exchange/types.js';
import type { Mode } from '../services/bot-state.js';
import { recordOrder, type RecordOrderDeps } from './order-executor.js';
import { withOrderLock } from './order-lock.js';
import type { Portfolio } from './portfolio.js';

/** What booking from the stream needs: recording an order's answer, and the order lock's database. */
export type ExecutionsFollowerDeps = RecordOrderDeps & { database: Database };

export class ExecutionsFollower {
  #watch: ExecutionsWatch | null = null;
  #queue: Promise<void> = Promise.resolve();
  /** Orders booked from the stream (intents that became final here): seen by tests and logs. */
  booked = 0;

  constructor(private readonly deps: { ctx: ExecutionsFollowerDeps; portfolio: () => Portfolio | undefined }) {}

  /** Subscribes while the engine trades live on an exchange that streams executions; else lets go. */
  attach(mode: Mode, exchange: Exchange): void {
    if (mode !== 'live' || !exchange.watchExecutions) {
      this.detach();
      return;
    }
    this.#watch ??= exchange.watchExecutions((orders) => {
      this.#queue = this.#queue.then(() => this.#book(orders)).catch((err: unknown) => {
        this.deps.ctx.logger.warn({ err }, 'could not book streamed executions; the REST follower books them');
      });
    });
  }

  get healthy(): boolean {
    return this.#watch?.healthy ?? false;
  }

  get problem(): string | undefined {
    return this.#watch?.problem;
  }

  detach(): void {
    this.#watch?.stop();
    this.#watch = null;
  }

  /** Waits for what was handed over so far to be booked. */
  async settled(): Promise<void> {
    await this.#queue;
  }

  async #book(orders: OrderState[]): Promise<void> {
    const { ctx } = this.deps;
    for (const order of orders) {
      // A new or resting order with nothing filled: nothing to book yet.
      if (order.status === 'open' && order.trades.length === 0) continue;
      const portfolio = this.deps.portfolio();
      if (!portfolio) return;
      await withOrderLock(ctx, async () => {
        const intent = await unresolvedLiveIntentFor(ctx.db, order);
        if (!intent) return;
        if (order.symbol !== intent.symbol) {
          ctx.logger.warn({ clientOrderId: intent.clientOrderId, streamed: order.symbol, intent: intent.symbol }, 'streamed order names another pair than its intent; left to REST');
          return;
        }
        const outcome = await recordOrder({ ctx, portfolio }, intent, await withBookedFills(ctx, intent, order));
        if (outcome.intentStatus !== 'open') {
          this.booked += 1;
          ctx.logger.info({ clientOrderId: intent.clientOrderId, exchangeOrderId: order.exchangeOrderId, status: outcome.intentStatus, fills: order.trades.length }, 'order booked from Kraken executions');
        }
      }, { crossProcess: true });
    }
  }
}

/** The streamed order with the fills the ledger already holds for its intent added (by trade id). */
async function withBookedFills(ctx: ExecutionsFollowerDeps, intent: OrderIntent, order: OrderState): Promise<OrderState> {
  const rows = await liveFillsOfIntent(ctx.db, intent.id);
  const trades = new Map<string, ExchangeTrade>(rows.map((f) => [f.exchangeTradeId, {
    id: f.exchangeTradeId, orderId: f.exchangeOrderId ?? order.exchangeOrderId, clientOrderId: f.clientOrderId, symbol: f.symbol, side: f.side,
    quantity: f.quantity, price: f.price, fee: f.fee, feeCurrency: f.feeCurrency,
    ...(f.chargedFee !== null ? { chargedFee: f.chargedFee } : {}), ...(f.chargedFeeCurrency !== null ? { chargedFeeCurrency: f.chargedFeeCurrency } : {}),
    timestamp: f.filledAt,
  }]));
  for (const t of order.trades) trades.set(t.id, t);
  return { ...order, trades: [...trades.values()] };
}
