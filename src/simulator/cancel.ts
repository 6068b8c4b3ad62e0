// Owns cancelling: one order (by txid, userref or cl_ord_id), all of them, and Kraken's dead man's
// switch (CancelAllOrdersAfter), which really cancels every open order when its timer runs out.
// Cancels count on the trading counter by the order's age; a single cancel can be refused when the
// counter is over its threshold, a cancel-all never is (Kraken accepts batch cancels over it).
import { pairOf } from './catalogue.js';
import type { SimContext } from './context.js';
import { closeOrder } from './fills.js';
import { isoSeconds } from './format.js';
import { fail, isOpen, ok, type KrakenAnswer, type SimOrder } from './types.js';

const MAX_DEAD_MAN_SECONDS = 86_400;

function cancelOne(ctx: SimContext, o: SimOrder, reason: string, charge: boolean): void {
  const pair = pairOf(o.pair);
  if (charge && pair) ctx.rates.chargeCancel(pair.id, ctx.now() / 1000 - o.opentm, ctx.now());
  closeOrder(ctx, o, 'canceled', reason);
}

export function cancelOrder(ctx: SimContext, params: Record<string, string>): KrakenAnswer {
  if (ctx.state.systemStatus === 'maintenance') return fail('EService:Unavailable');
  const txid = params['txid'];
  const clOrdId = params['cl_ord_id'];
  if (txid === undefined && clOrdId === undefined) return fail('EGeneral:Invalid arguments:txid');
  const orders = [...ctx.state.orders.values()];
  const targets = txid !== undefined
    ? orders.filter((o) => o.txid === txid || (/^-?\d+$/.test(txid) && String(o.userref) === txid))
    : orders.filter((o) => o.cl_ord_id === clOrdId);
  const open = targets.filter(isOpen);
  if (open.length === 0) return fail('EOrder:Unknown order');
  for (const o of open) {
    const pair = pairOf(o.pair);
    if (pair && !ctx.rates.mayCancel(pair.id, ctx.now())) return fail('EOrder:Rate limit exceeded');
  }
  for (const o of open) cancelOne(ctx, o, 'User requested', true);
  return ok({ count: open.length });
}

export function cancelAll(ctx: SimContext, reason = 'User requested', charge = true): number {
  let count = 0;
  for (const o of ctx.state.orders.values()) {
    if (!isOpen(o)) continue;
    cancelOne(ctx, o, reason, charge);
    count += 1;
  }
  return count;
}

export function cancelAllAnswer(ctx: SimContext): KrakenAnswer {
  if (ctx.state.systemStatus === 'maintenance') return fail('EService:Unavailable');
  return ok({ count: cancelAll(ctx) });
}

/** CancelAllOrdersAfter: arms (timeout > 0, seconds) or disarms (0) the dead man's switch. */
export function cancelAllOrdersAfter(ctx: SimContext, params: Record<string, string>): KrakenAnswer {
  const text = params['timeout'];
  if (text === undefined || !/^\d+$/.test(text) || Number(text) > MAX_DEAD_MAN_SECONDS) return fail('EGeneral:Invalid arguments:timeout');
  const timeout = Number(text);
  const now = ctx.now();
  ctx.state.deadMan = { timeoutSeconds: timeout, triggerAt: timeout > 0 ? now + timeout * 1000 : null };
  ctx.changed();
  return ok({ currentTime: isoSeconds(now), triggerTime: timeout > 0 ? isoSeconds(now + timeout * 1000) : '0' });
}

/** Fires the dead man's switch when its time has come; returns how many orders it cancelled. */
export function fireDeadManIfDue(ctx: SimContext): number | undefined {
  const { triggerAt } = ctx.state.deadMan;
  if (triggerAt === null || ctx.now() < triggerAt) return undefined;
  ctx.state.deadMan = { timeoutSeconds: 0, triggerAt: null };
  const count = cancelAll(ctx, 'Dead man switch', false);
  ctx.changed();
  return count;
}
