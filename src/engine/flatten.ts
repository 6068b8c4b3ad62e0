// Owns flattening: selling every open position of the ledger at market, on the venue it was opened on
// (live trades on Kraken — which needs the process armed — and paper trades on the paper venue). The
// incident's "close positions" runs it in the engine's process, after trading is halted, so flatten
// intents are allowed while halted. Each sale goes through the same intent → order → ledger path as
// the engine's exits. A position counts as closed only when the exchange's fills for its sale are
// booked. A sale whose fills Kraken has not listed yet, or whose answer was lost (a timeout may have
// sold), is reported pending: the engine's fill follower resolves it by client order id, and a
// position with a sale on its way is never sold again (asking twice must not sell twice). A sale that
// filled in part leaves the rest open and is reported so — the report never claims more. A live sale
// carries Kraken's send deadline (send-deadline.ts), and is not sent once too little of it is left.
// Once it is over, the running engine of this process reads its book again from the ledger.
import type { Clock } from '../clock.js';
import type { Config } from '../config/env.js';
import type { Database, Db } from '../db/client.js';
import type { OrderIntent, Trade } from '../db/schema/index.js';
import { isAppError } from '../errors.js';
import { NOT_SENT_LATE } from '../exchange/send-by.js';
import type { ExchangeProvider } from '../exchange/provider.js';
import type { Logger } from '../logger.js';
import type { PriceBoard } from '../market/price-board.js';
import { dec, str, ZERO } from '../money.js';
import { markIntent, unresolvedIntents, writeIntent } from './ledger/intents.js';
import { REMOVES_RISK } from './ledger/intent-lease.js';
import { bookedOutcome, recordExecution, type RecordOutcome } from './ledger/record-execution.js';
import { openTrades } from './ledger/trades.js';
import { runningEngine } from './manual-exit.js';
import { withOrderLock } from './order-lock.js';
import { sendByFromNow, sendWindow } from './send-deadline.js';
import { logExecution, logOrderSent } from './trade-log.js';

/** What flattening needs: each venue, the ledger, the order lock's database, the marks, the clock and the log. */
export interface FlattenDeps {
  exchanges: ExchangeProvider;
  db: Db;
  database: Database;
  clock: Clock;
  config: Pick<Config, 'IS_LIVE' | 'QUOTE_CURRENCY' | 'CAPITAL_RESERVE_PCT'>;
  prices: PriceBoard;
  logger: Logger;
}

export interface FlattenReport {
  ok: boolean;
  summary: string;
  closed: number[];
  failed: Array<{ tradeId: number; error: string }>;
  /** Positions with a sale on its way whose fills are not all booked yet: followed up, not yet closed. */
  pending: Array<{ tradeId: number; note: string }>;
}

/** Only a refusal means nothing was placed; a timeout or a lost answer may have sold. */
function refused(err: unknown): boolean {
  return isAppError(err, 'rejected') || isAppError(err, 'auth') || isAppError(err, 'halt') || isAppError(err, 'conflict');
}

/** What became of one position's sale. */
type Verdict = { closed: true } | { pending: string } | { failed: string };

const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));

async function flattenOne(ctx: FlattenDeps, trade: Trade): Promise<Verdict> {
  const exchange = ctx.exchanges.forMode(trade.mode);
  // Never refused for want of the engine lease: a flatten only removes risk, runs from `ctb kill` in a
  // process that holds no lease, and never sells a position twice (its sale on its way is checked
  // under the order lock): a kill must close positions whoever runs the engine, or none does.
  const fencedAt = ctx.clock.now();
  const sendBy = sendByFromNow();
  const intent = await writeIntent(ctx.db, {
    mode: trade.mode, feed: trade.feed, strategy: trade.strategy, symbol: trade.symbol, side: 'sell', purpose: 'flatten', type: 'market',
    quantity: str(dec(trade.quantity)), tradeId: trade.id, at: fencedAt,
  }, { armed: ctx.config.IS_LIVE, lease: REMOVES_RISK });
  if (!intent) return { failed: 'the flatten intent could not be written; nothing was sent' };
  // A live sale carries Kraken's deadline as the engine's orders do (send-deadline.ts), though it is
  // never refused for want of the lease: recovery closes a flatten intent Kraken does not list after
  // the same grace, and a sale let out later (a paused process) would then sell beside the sale asked
  // for again meanwhile — another position's coins. Nothing waits between its write and its send, so
  // only a pause or a slow Kraken meets the deadline: the position stays open, said so, and a flatten
  // asked again decides anew.
  const within = trade.mode === 'live' ? sendWindow(fencedAt, ctx.clock.now()) : null;
  const notSent = async (why: string): Promise<Verdict> => {
    await markIntent(ctx.db, { id: intent.id, status: 'refused', error: why, at: ctx.clock.now() });
    ctx.logger.error({ tradeId: trade.id, clientOrderId: intent.clientOrderId }, `flatten: ${why}`);
    return { failed: `${why}; ask again to close it` };
  };
  if (within && 'notSent' in within) return notSent(within.notSent);
  let order;
  try {
    order = await exchange.createOrder({
      clientOrderId: intent.clientOrderId, symbol: trade.symbol, side: 'sell', type: 'market', quantity: intent.quantity,
      ...(within ? { sendBy } : {}),
    });
  } catch (err) {
    // The adapter's own check right before the request would leave (after its market load).
    if (isAppError(err) && err.code === NOT_SENT_LATE) return notSent(err.message);
    // As the engine's executor does: a timeout or network error may have placed the sale, so the
    // intent stays 'sent' for the fill follower to resolve against the exchange instead of being
    // closed as failed and the position sold twice.
    const nothingPlaced = refused(err);
    if (!(await markIntent(ctx.db, { id: intent.id, status: nothingPlaced ? 'failed' : 'sent', error: messageOf(err), at: ctx.clock.now() }))) {
      // Its outcome was booked meanwhile (a follower or recovery that held the order lock after this
      // session lost it): that is what became of the sale, whatever this request's error said.
      const booked = await bookedOutcome(ctx.db, intent);
      if (booked) {
        ctx.logger.warn({ err, tradeId: trade.id, status: booked.intentStatus }, `flatten: the sale's request failed, but its outcome was booked meanwhile: ${booked.intentStatus}`);
        return verdictOf(booked, trade);
      }
    }
    ctx.logger.error({ err, tradeId: trade.id }, 'flatten: the sale was not confirmed');
    return nothingPlaced ? { failed: messageOf(err) } : { pending: `the exchange's answer was lost (${messageOf(err)}); the sale may have been placed` };
  }
  logOrderSent(ctx.logger, {
    mode: trade.mode, purpose: 'flatten', strategy: trade.strategy, symbol: trade.symbol, side: 'sell', quantity: intent.quantity,
    clientOrderId: intent.clientOrderId, tradeId: trade.id, reason: 'close positions (incident)',
  });
  let outcome: RecordOutcome;
  try {
    // capital_buffer from the venue's own balance after the sale, and the other positions at their marks.
    const balances = await exchange.fetchBalances();
    const cash = dec(balances.find((b) => b.asset === ctx.config.QUOTE_CURRENCY)?.free ?? '0');
    const others = (await openTrades(ctx.db, trade.mode)).filter((t) => t.id !== trade.id)
      .reduce((acc, t) => acc.plus(dec(t.quantity).times(ctx.prices.lastCandle(t.symbol)?.close ?? t.entryPrice)), ZERO);
    outcome = await recordExecution(ctx.db, {
      intent, order, quoteCurrency: ctx.config.QUOTE_CURRENCY, reservePct: ctx.config.CAPITAL_RESERVE_PCT, at: ctx.clock.now(),
      capitalAtClose: () => ({ uncommittedQuote: cash, equity: cash.plus(others) }),
    });
  } catch (err) {
    // The exchange took the sale; its intent stays unresolved for the follower to book.
    ctx.logger.error({ err, tradeId: trade.id }, 'flatten: the sale was placed but could not be booked');
    return { pending: `sold; booking its fills failed (${messageOf(err)})` };
  }
  if (outcome.execution) logExecution(ctx.logger, intent, outcome.execution, outcome.trade, ctx.config.QUOTE_CURRENCY);
  return verdictOf(outcome, trade);
}

/** What a sale's booked outcome makes of its position: closed only when all of it sold and every fill is booked. */
function verdictOf(outcome: RecordOutcome, trade: Trade): Verdict {
  if (outcome.intentStatus === 'open') return { pending: 'sold; the exchange has not listed all its fills yet' };
  if (outcome.partialExit) {
    return { failed: `sold ${outcome.partialExit.filled.toFixed()} of ${dec(trade.quantity).toFixed()}; ${outcome.partialExit.remaining.toFixed()} is still open` };
  }
  if (outcome.intentStatus !== 'filled' || !outcome.execution) return { failed: `the sale ended ${outcome.intentStatus} with nothing filled` };
  return { closed: true };
}

export async function flattenPositions(ctx: FlattenDeps): Promise<FlattenReport> {
  try {
    return await withOrderLock(ctx, () => flattenUnderLock(ctx));
  } finally {
    // The engine of this process keeps its book in memory: it reads it again from the ledger.
    runningEngine(ctx)?.ledgerChanged();
  }
}

async function flattenUnderLock(ctx: FlattenDeps): Promise<FlattenReport> {
  const open = [...(await openTrades(ctx.db, 'live')), ...(await openTrades(ctx.db, 'paper'))];
  const closed: number[] = [];
  const failed: FlattenReport['failed'] = [];
  const pending: FlattenReport['pending'] = [];
  // A sale (an exit or an earlier flatten) still unresolved for a position: it may fill any moment.
  const onItsWay = new Map<number, OrderIntent>();
  for (const intent of await unresolvedIntents(ctx.db)) if (intent.side === 'sell' && intent.tradeId !== null) onItsWay.set(intent.tradeId, intent);
  for (const trade of open) {
    const earlier = onItsWay.get(trade.id);
    const verdict: Verdict = earlier
      ? { pending: `a sale is already on its way (intent #${earlier.id}, ${earlier.status}): not sent again` }
      : await flattenOne(ctx, trade).catch((err: unknown) => ({ failed: messageOf(err) }));
    if ('closed' in verdict) closed.push(trade.id);
    else if ('pending' in verdict) pending.push({ tradeId: trade.id, note: verdict.pending });
    else failed.push({ tradeId: trade.id, error: verdict.failed });
  }
  const parts = [
    ...(failed.length > 0 ? [`failed: ${failed.map((f) => `#${f.tradeId} (${f.error})`).join(', ')}`] : []),
    ...(pending.length > 0
      ? [`not closed yet: ${pending.map((p) => `#${p.tradeId} (${p.note})`).join(', ')} — the fill follower books them; ask again to confirm`]
      : []),
  ];
  const summary = open.length === 0
    ? 'No open positions to close.'
    : `Closed ${closed.length} of ${open.length} open positions${parts.length > 0 ? `; ${parts.join('; ')}` : ''}.`;
  return { ok: failed.length === 0 && pending.length === 0, summary, closed, failed, pending };
}
