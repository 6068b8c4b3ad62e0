// Owns cancelling one Kraken order by its txid — what `ctb reconcile cancel <txid>` does to an order
// the bot cannot explain — and saying only what Kraken confirms: the order is no longer among Kraken's
// open orders (cancelled now, or already gone), or it still is. Cancelling is never refused for being
// unarmed. Runs in any process with the key; the engine's process runs it for the others.
import { AppError } from '../../errors.js';
import type { Exchange } from '../../exchange/types.js';
import { describeError } from '../kill/deadline.js';
import type { HandlerOutcome } from '../engine-requests/runner.js';

const TXID = /^[A-Z0-9]{1,16}(-[A-Z0-9]{1,16}){0,4}$/;

/** A Kraken order or trade id as an operator types it: trimmed, upper-cased, checked for shape. */
export function parseKrakenId(text: unknown): string {
  const id = typeof text === 'string' ? text.trim().toUpperCase() : '';
  if (id.length === 0 || id.length > 64 || !TXID.test(id)) {
    throw new AppError('usage', 'bad_txid', `"${String(text).slice(0, 40)}" is not a Kraken id: expected one such as OQCLML-BW3P3-BUCMWZ (letters, digits and dashes).`);
  }
  return id;
}

export interface CancelOrderOutcome extends HandlerOutcome {
  txid: string;
  /** Kraken's CancelOrder answered without an error. */
  cancelled: boolean;
  /** Kraken's open orders, read after the attempt, no longer list it. */
  gone: boolean;
}

export async function cancelKrakenOrder(exchange: Exchange, txid: string): Promise<CancelOrderOutcome> {
  const openBefore = (await exchange.fetchOpenOrders()).some((o) => o.exchangeOrderId === txid);
  if (!openBefore) {
    return { ok: true, txid, cancelled: false, gone: true, summary: `Kraken order ${txid} is not open on Kraken: nothing to cancel.` };
  }
  let error: string | null = null;
  try {
    await exchange.cancelOrder(txid);
  } catch (err) {
    error = describeError(err);
  }
  const stillOpen = (await exchange.fetchOpenOrders()).some((o) => o.exchangeOrderId === txid);
  if (stillOpen) {
    return { ok: false, txid, cancelled: false, gone: false, summary: `Kraken order ${txid} is still open on Kraken${error ? ` (CancelOrder failed: ${error})` : ' after CancelOrder'}.` };
  }
  return {
    ok: true, txid, cancelled: error === null, gone: true,
    summary: error === null ? `Kraken order ${txid} cancelled; Kraken no longer lists it open.` : `Kraken order ${txid} is no longer open on Kraken (CancelOrder answered: ${error}).`,
  };
}
