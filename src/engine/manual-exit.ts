// Owns an operator's exit of one open trade inside the engine: the same order path as a strategy's
// exit (intent written under the halt fence with a client order id, the same executor, the same
// ledger), run between two ticks of the loop so the strategy cannot exit the same position twice.
// The engine registers itself per context while it runs, so the engine-request handler (handed the
// exit by a process without the engine) finds it.
import type { Mode } from '../services/bot-state.js';
import type { LeaseRefusal } from './ledger/intent-lease.js';
import type { OrderOutcome, OrderRequestSpec } from './order-executor.js';
import type { Portfolio } from './portfolio.js';

export interface ManualExitOutcome {
  tradeId: number;
  ok: boolean;
  status: 'closed' | 'partial' | 'not_open' | 'skipped' | 'refused' | 'rejected' | 'unknown' | 'halted';
  message: string;
  symbol?: string;
  exitPrice?: string;
  realizedPnl?: string;
}

/** What the engine lends a manual exit: its book, its own order path, and why it cannot order now. */
export interface ExitAccess {
  mode: Mode;
  portfolio: Portfolio | undefined;
  /** Non-null while the engine itself would not order (an earlier order's outcome is unknown). */
  blocked: string | null;
  order(spec: OrderRequestSpec): Promise<OrderOutcome>;
}

/** Runs functions one after another (FIFO): the loop's ticks and operators' exits take turns. */
export class Turns {
  #tail: Promise<unknown> = Promise.resolve();

  run<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.#tail.then(fn, fn);
    this.#tail = next.catch(() => undefined);
    return next;
  }
}

export async function exitPosition(access: ExitAccess, tradeId: number, reason: string): Promise<ManualExitOutcome> {
  const position = access.portfolio?.positions.get(tradeId);
  if (!access.portfolio) return { tradeId, ok: false, status: 'not_open', message: 'the engine has not loaded its book yet; try again in a moment' };
  if (access.blocked) return { tradeId, ok: false, status: 'skipped', message: `not sent: ${access.blocked}` };
  if (!position) return { tradeId, ok: false, status: 'not_open', message: `trade #${tradeId} is not open in the engine's ${access.mode} book (closed meanwhile, or opened in the other mode)` };
  const outcome = await access.order({
    purpose: 'exit', strategy: position.strategy, symbol: position.symbol, side: 'sell', quantity: position.quantity, tradeId, reason,
  });
  const base = { tradeId, symbol: position.symbol };
  switch (outcome.kind) {
    case 'recorded': {
      const r = outcome.outcome;
      if (r.partialExit) return { ...base, ok: false, status: 'partial', message: `filled ${r.partialExit.filled.toFixed()} of ${position.quantity.toFixed()}; ${r.partialExit.remaining.toFixed()} stays open` };
      if (r.intentStatus !== 'filled' || !r.trade) return { ...base, ok: false, status: 'unknown', message: `the exit order is ${r.intentStatus}: it is resolved against the exchange` };
      return {
        ...base, ok: true, status: 'closed', message: `sold ${position.quantity.toFixed()} ${position.symbol}`,
        ...(r.trade.exitPrice ? { exitPrice: r.trade.exitPrice } : {}), ...(r.trade.realizedPnl ? { realizedPnl: r.trade.realizedPnl } : {}),
      };
    }
    case 'skipped':
      if (outcome.reason === 'lease_lost') return { ...base, ok: false, status: 'skipped', message: leaseLostMessage(outcome) };
      return { ...base, ok: false, status: outcome.reason === 'halted' ? 'halted' : 'skipped', message: outcome.reason === 'halted' ? 'trading is halted: no order was sent' : `not sent: ${outcome.reason.replace('_', ' ')}` };
    case 'rejected':
      return { ...base, ok: false, status: 'rejected', message: `the exchange rejected the exit: ${outcome.message}` };
    case 'unknown':
      return { ...base, ok: false, status: 'unknown', message: `outcome unknown (${outcome.message}): the intent is resolved against the exchange before anything else is sent` };
    case 'halted':
      return { ...base, ok: false, status: 'halted', message: `the exchange refused the exit and trading halted: ${outcome.message}` };
    default:
      return { ...base, ok: false, status: 'refused', message: describeOther(outcome) };
  }
}

/** An exit refused by the engine lease, as the lease row had it: a takeover only when the row names another holder. */
function leaseLostMessage(refusal: LeaseRefusal): string {
  const why = refusal.leaseHolder === null
    ? 'the engine lease row is gone (released, or the database restored without it)'
    : `another process (${refusal.leaseHolder}) has taken over the engine lease`;
  return `not sent: ${why}, so this engine no longer trades; no order was sent`;
}

function describeOther(outcome: OrderOutcome): string {
  return 'message' in outcome && typeof outcome.message === 'string' ? outcome.message : `not sent (${outcome.kind})`;
}

/** The running engine of a context, as manual exits see it. */
export interface RunningEngine {
  exitTrade(tradeId: number, reason: string): Promise<ManualExitOutcome>;
  /** The trades open in the engine's book now, or null before it loaded its book. */
  openTradeIds(): number[] | null;
  readonly mode: Mode;
  /** The ledger of its book changed outside it (a flatten): it reads its book again before its next snapshot. */
  ledgerChanged(): void;
}

const running = new WeakMap<object, RunningEngine>();

export function setRunningEngine(ctx: object, engine: RunningEngine | null, only?: RunningEngine): void {
  if (engine) running.set(ctx, engine);
  else if (!only || running.get(ctx) === only) running.delete(ctx);
}

export function runningEngine(ctx: object): RunningEngine | undefined {
  return running.get(ctx);
}
