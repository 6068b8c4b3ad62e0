// Owns resolving order intents whose outcome the ledger does not know — at start (a crash between
// intent and fill) and whenever a send's outcome was unknown. The exchange is asked by client order
// id: an order it has is recorded (idempotently, so nothing is counted twice); an intent it never
// saw was never placed and is closed as failed, so nothing is sent twice either.
import type { AppContext } from '../app/context.js';
import type { OrderIntent } from '../db/schema/index.js';
import type { Exchange } from '../exchange/types.js';
import type { Mode } from '../services/bot-state.js';
import { markIntent, unresolvedIntents } from './ledger/intents.js';
import { recordOrder } from './order-executor.js';
import { openTrades } from './ledger/trades.js';
import { Portfolio } from './portfolio.js';

export interface ResolutionReport {
  recorded: number;
  neverPlaced: number;
  stillOpen: number;
  unreachable: number;
}

/**
 * Resolves every unresolved intent of `mode`. The capital used for capital_buffer is read from the
 * exchange now (after any fill it made), so callers reload their own portfolio afterwards.
 */
export async function resolveIntents(p: { ctx: AppContext; mode: Mode; exchange: Exchange }): Promise<ResolutionReport> {
  const { ctx } = p;
  const report: ResolutionReport = { recorded: 0, neverPlaced: 0, stillOpen: 0, unreachable: 0 };
  const intents = await unresolvedIntents(ctx.db, p.mode);
  if (intents.length === 0) return report;
  const portfolio = await Portfolio.load(p.exchange, await openTrades(ctx.db, p.mode), ctx.config.QUOTE_CURRENCY);
  for (const intent of intents) {
    try {
      await resolveOne({ ...p, portfolio }, intent, report);
    } catch (err) {
      report.unreachable += 1;
      ctx.logger.warn({ err, clientOrderId: intent.clientOrderId }, 'could not resolve an order intent yet; will retry');
    }
  }
  if (report.recorded + report.neverPlaced > 0) ctx.logger.info({ report }, 'order intents resolved against the exchange');
  return report;
}

async function resolveOne(p: { ctx: AppContext; exchange: Exchange; portfolio: Portfolio }, intent: OrderIntent, report: ResolutionReport): Promise<void> {
  const { ctx } = p;
  const order = await p.exchange.fetchOrderByClientId(intent.clientOrderId, intent.symbol);
  if (!order) {
    await markIntent(ctx.db, { id: intent.id, status: 'failed', error: 'not on the exchange when resolved: never placed', at: ctx.clock.now() });
    report.neverPlaced += 1;
    return;
  }
  const outcome = await recordOrder({ ctx, portfolio: p.portfolio }, intent, order, { cashSettled: true });
  if (outcome.intentStatus === 'open') report.stillOpen += 1;
  else report.recorded += 1;
}
