// Owns a paper order as one statement: the intent (written only if bot_state allows it and the engine
// still holds its lease, under the same FOR SHARE fences as writeIntent), the paper venue's order and balances, the fills and the trade
// the order opens or closes, the intent already filled — committed together, in one round trip. There
// is no moment between intent and fill, so a crash leaves the whole order or nothing of it, and
// nothing is left to resolve after a restart. An order the pre-trade gate or the venue refuses is
// one statement too: its intent written already closed (refused, rejected), nothing sent. The gate's
// count of our unsettled intents is not read before each order: the statement itself checks that they
// are still the ones the gate judged on (and writes nothing, answering with them, when not), so an
// order costs one round trip and is never let through on a stale count.
// Paper only, and only the venue itself in this process (PaperExchange.isVenue): a live order's
// intent is committed before Kraken hears of it, and recorded when Kraken answers (order-executor.ts).
import { executePrepared, executePreparedText } from '../db/prepared.js';
import type { OrderIntent } from '../db/schema/index.js';
import { isAppError } from '../errors.js';
import type { PaperExchange } from '../exchange/paper/paper-exchange.js';
import type { BalanceRow } from '../db/queries/exchange-paper.js';
import type { OrderState } from '../exchange/types.js';
import { ctbMetrics } from '../metrics/instruments.js';
import { str } from '../money.js';
import { effectiveMode, getBotState } from '../services/bot-state.js';
import { isHaltLatched } from '../services/kill/runtime.js';
import { judgeIntent, refusalError, reportRefusal } from './gate-runtime.js';
import { capitalBuffer as capitalBufferOf } from './ledger/capital-buffer.js';
import { newClientOrderId, writeIntent, type IntentGuard, type NewIntent } from './ledger/intents.js';
import { fenceHolder, refusedByLease } from './ledger/intent-lease.js';
import { unsettledIntents, type UnsettledIntent } from '../db/queries/ledger-intents.js';
import { summarise, toTrade, type RecordOutcome } from './ledger/record-execution.js';
import { paperOrderStatement } from './paper-order-statement.js';
import { applyRecorded, capitalAtClose, reportRejected, type ExecutorDeps, type OrderOutcome, type OrderRequestSpec } from './order-executor.js';
import { withOrderLock } from './order-lock.js';
import { logOrderSent } from './trade-log.js';

export type PaperDeps = Omit<ExecutorDeps, 'exchange' | 'hooks'> & { exchange: PaperExchange };

/**
 * What the order's statement did: wrote the order (`placed`), nothing because bot_state forbade it
 * (`forbidden`), or nothing because the unsettled intents the gate judged on had changed (`stale`,
 * with them as they are now).
 */
type Written =
  | { kind: 'placed'; outcome: RecordOutcome; order: OrderState }
  | { kind: 'forbidden' }
  | { kind: 'stale'; unsettled: UnsettledIntent[] };

/** The unsettled intents as the statement compares them: ids and statuses in id order. */
function fingerprint(unsettled: UnsettledIntent[]): string {
  return [...unsettled].sort((a, b) => a.id - b.id).map((u) => `${u.id}:${u.status}`).join(',');
}

/**
 * The paper intents not settled yet as this process last saw them (per context), so the gate need
 * not read them before every order: the order's statement writes only if they are still exactly
 * these (ids and statuses), and answers with them as they are when not.
 */
const lastUnsettled = new WeakMap<object, UnsettledIntent[]>();
/** Tries before giving up on an order whose unsettled intents keep changing under it (another writer). */
const ATTEMPTS = 5;

export async function executePaperOrder(deps: PaperDeps, spec: OrderRequestSpec): Promise<OrderOutcome> {
  const { ctx } = deps;
  return withOrderLock(ctx, async () => {
    // A kill latches this process before it can write the halt: honour both.
    if (isHaltLatched(ctx)) return { kind: 'skipped', reason: 'halted' };
    const at = ctx.clock.now();
    const planned: NewIntent = {
      mode: 'paper', feed: deps.feed, strategy: spec.strategy, symbol: spec.symbol, side: spec.side, purpose: spec.purpose,
      type: 'market', quantity: str(spec.quantity), ...(spec.tradeId !== undefined ? { tradeId: spec.tradeId } : {}), at,
    };
    const guard: IntentGuard = { armed: ctx.config.IS_LIVE, lease: deps.lease };
    const intent: OrderIntent = {
      id: 0, clientOrderId: newClientOrderId(), mode: 'paper', feed: deps.feed, strategy: spec.strategy, symbol: spec.symbol, side: spec.side,
      purpose: spec.purpose, type: 'market', quantity: planned.quantity, limitPrice: null, status: 'filled', exchangeOrderId: null,
      tradeId: spec.tradeId ?? null, error: null, createdAt: at, updatedAt: at,
    };
    // The gate judges on the unsettled intents last seen, which the statement then checks. Nothing is
    // refused (by the gate or, recorded as such, by the venue) on that view: a refusal is judged
    // again on a fresh read, so every outcome rests on what the database held when it was written.
    let unsettled = lastUnsettled.get(ctx);
    let fresh = false;
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      if (!unsettled) {
        unsettled = await unsettledIntents(ctx.db, 'paper', 0);
        fresh = true;
      }
      lastUnsettled.set(ctx, unsettled);
      const verdict = await judgeIntent(deps, { ...planned, limitPrice: null }, spec.referencePrice, unsettled);
      if (!verdict.ok && !fresh) {
        unsettled = undefined;
        continue;
      }
      if (!verdict.ok) {
        const refused = await writeIntent(ctx.db, planned, guard, { status: 'refused', error: refusalError(verdict.check, verdict.message) });
        if (!refused) return skipped(deps);
        await reportRefusal(ctx, refused, verdict.check, verdict.message);
        return { kind: 'refused', check: verdict.check, message: verdict.message };
      }
      let written: Written;
      try {
        written = await placed(deps, intent, guard, unsettled);
      } catch (err) {
        if (!isAppError(err, 'rejected')) throw err;
        if (!fresh) {
          unsettled = undefined;
          continue;
        }
        const message = err instanceof Error ? err.message : String(err);
        const rejected = await writeIntent(ctx.db, planned, guard, { status: 'rejected', error: message });
        if (!rejected) return skipped(deps);
        verdict.admit();
        await reportRejected(ctx, rejected, err, message);
        return { kind: 'rejected', message };
      }
      if (written.kind === 'stale') {
        unsettled = written.unsettled;
        fresh = true;
        continue;
      }
      if (written.kind === 'forbidden') return skipped(deps);
      verdict.admit();
      ctbMetrics(ctx.metrics).ordersSent.inc({ mode: 'paper', side: spec.side });
      logOrderSent(ctx.logger, { ...spec, mode: 'paper', quantity: intent.quantity, clientOrderId: intent.clientOrderId });
      await applyRecorded(deps, intent, written.order, written.outcome, false);
      return { kind: 'recorded', outcome: written.outcome };
    }
    throw new Error(`the unsettled paper order intents changed under this order ${ATTEMPTS} times in a row; nothing was written`);
  }, { crossProcess: false });
}

/** Why bot_state (or the engine lease) did not let the intent be written (as executeOrder tells it). */
async function skipped(deps: PaperDeps): Promise<OrderOutcome> {
  const byLease = await refusedByLease(deps.ctx, deps.lease);
  if (byLease) return { kind: 'skipped', reason: 'lease_lost', ...byLease };
  const state = await getBotState(deps.ctx.db);
  if (state.halted) return { kind: 'skipped', reason: 'halted' };
  if (effectiveMode(state, deps.ctx.config.IS_LIVE) !== 'paper') return { kind: 'skipped', reason: 'mode_changed' };
  return { kind: 'skipped', reason: 'entries_paused' };
}

/**
 * The one statement (paper-order-statement.ts): the venue prices the order (throwing its refusal
 * before anything is written), then intent, venue order and balances, fills, trade and the intent's
 * outcome are written together. Fills `intent` in place (id, venue order id, trade id). Writes
 * nothing when bot_state forbids the order, or when our unsettled paper intents are no longer
 * `unsettled` (what the gate judged on).
 */
async function placed(deps: PaperDeps, intent: OrderIntent, guard: IntentGuard, unsettled: UnsettledIntent[]): Promise<Written> {
  const { ctx } = deps;
  const quote = ctx.config.QUOTE_CURRENCY;
  return deps.exchange.placeWithin(
    { clientOrderId: intent.clientOrderId, symbol: intent.symbol, side: intent.side, type: 'market', quantity: intent.quantity },
    async ({ state, row: order, deltas }): Promise<{ balances: BalanceRow[] | null; result: Written }> => {
      const execution = summarise(state.trades, quote);
      // A paper market order fills whole at once; anything else is not this path's to record.
      if (!execution || state.status !== 'closed' || !execution.quantity.eq(intent.quantity)) throw new Error('a paper market order did not fill whole');
      if (intent.purpose !== 'entry' && intent.tradeId === null) throw new Error('a paper exit needs the trade it closes');
      const capitalBuffer = intent.purpose === 'entry' ? null
        : str(capitalBufferOf(capitalAtClose(deps, intent, execution, false), ctx.config.CAPITAL_RESERVE_PCT));
      const statement = paperOrderStatement(ctx.db, {
        intent, guard: { armed: guard.armed, holderId: fenceHolder(guard.lease) }, unsettled: fingerprint(unsettled), state, order, deltas, execution, quote, capitalBuffer,
      });
      const rows = 'text' in statement
        ? await executePreparedText<Record<string, unknown>>(ctx.db, statement.text, statement.params)
        : await executePrepared<Record<string, unknown>>(ctx.db, statement);
      const row = rows[0] ?? {};
      if (row.unsettled_ok === false) return { balances: null, result: { kind: 'stale', unsettled: unsettledOf(row.unsettled) } };
      if (row.intent_id === null || row.intent_id === undefined) return { balances: null, result: { kind: 'forbidden' } };
      if (Number(row.intent_written) !== 1) throw new Error(`the paper venue already has an order with client order id ${intent.clientOrderId}`);
      intent.id = Number(row.intent_id);
      intent.exchangeOrderId = state.exchangeOrderId;
      const recordedTrade = row.id !== null && row.id !== undefined ? toTrade(row) : null;
      if (intent.purpose === 'entry') intent.tradeId = recordedTrade?.id ?? null;
      const balances = typeof row.balances === 'string' ? (JSON.parse(row.balances) as BalanceRow[]) : null;
      const outcome: RecordOutcome = { intentStatus: 'filled', execution, trade: recordedTrade, partialExit: null, applied: true };
      return { balances, result: { kind: 'placed', outcome, order: state } };
    },
  );
}

function unsettledOf(json: unknown): UnsettledIntent[] {
  const rows = typeof json === 'string' ? (JSON.parse(json) as { id: number | string; symbol: string; status: string; created_at: string }[]) : [];
  return rows.map((r) => ({ id: Number(r.id), symbol: r.symbol, status: r.status, createdAt: new Date(r.created_at) }));
}
