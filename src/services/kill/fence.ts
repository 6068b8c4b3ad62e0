// Owns the kill's wait for orders already on their way. The halt is a fence because the engine
// writes each order intent in one statement that locks bot_state's row FOR SHARE and re-checks
// `halted` (engine/ledger/intents.ts): once the kill's halt is committed, no intent can be written,
// and an intent committed before it is visible here. Such an intent stays `pending` until its
// venue answers the order, so once none is pending, every order the engine will ever send for
// intents written before the halt has reached its venue, and one more cancel removes it.
// It also owns the one ground on which anything says a kill or a halt is done (confirmedClear).
import type { Db } from '../../db/client.js';
import { pendingOrderIntents, type PendingIntentRow } from '../../db/queries/kill-fence.js';
import { describeError, sleep, withDeadline } from './deadline.js';

export type InFlightOrder = PendingIntentRow;

export interface FenceReport {
  /** How long the kill waited for orders in flight. */
  waitedMs: number;
  /** Intents still pending when the wait ran out: their orders may reach the venue after the kill. */
  unresolved: InFlightOrder[];
  /** Set when the database could not be read: nothing is known about orders in flight. */
  error?: string;
}

/**
 * Waits (at most `timeoutMs`) until no order intent is pending. Call it after the halt is committed.
 * An order on its way waits on Kraken, not on the database: on a slow Kraken it stays pending for as
 * long as the engine's calls take (its funds check, then AddOrder, each seconds late), so the kill
 * gives this wait its confirmation time; each read of the intents still gets the database's own
 * deadline (`queryTimeoutMs`), so a stalled database ends the wait as before.
 */
export async function awaitOrdersInFlight(db: Db, timeoutMs: number, pollMs = 20, queryTimeoutMs = timeoutMs): Promise<FenceReport> {
  const started = performance.now();
  const deadline = started + timeoutMs;
  let unresolved: InFlightOrder[] = [];
  try {
    for (;;) {
      unresolved = await withDeadline(pendingOrderIntents(db), Math.max(1, Math.min(queryTimeoutMs, deadline - performance.now())), 'the database (order intents)');
      if (unresolved.length === 0 || performance.now() + pollMs > deadline) break;
      await sleep(pollMs);
    }
  } catch (err) {
    return { waitedMs: performance.now() - started, unresolved, error: describeError(err) };
  }
  return { waitedMs: performance.now() - started, unresolved };
}

/** One read of the orders in flight now, under the database's deadline (no wait for them to land). */
export function ordersInFlightNow(db: Db, queryTimeoutMs: number): Promise<FenceReport> {
  return awaitOrdersInFlight(db, queryTimeoutMs, Number.POSITIVE_INFINITY, queryTimeoutMs);
}

/** An order of ours may still reach a venue: an intent was still pending, or the intents could not be read. */
export function ordersMayLand(fence: FenceReport): boolean {
  return fence.unresolved.length > 0 || fence.error !== undefined;
}

/** What the fence found, said: how many orders are still on their way, or that they could not be checked. */
export function inFlightPhrase(fence: FenceReport): string {
  return fence.error ? `Orders on their way could not be checked (${fence.error})` : `${fence.unresolved.length} order(s) still on their way`;
}

/**
 * The one ground on which a kill, its follow-up, an incident's "cancel again" or a halt's cancel
 * says it is done and resolves its alert group: Kraken (every venue asked) confirmed zero open
 * orders, and no order of ours is in flight. `fence` must be read once the halt is committed (no
 * intent can be written after it) and before the confirmation: an intent answered between Kraken's
 * "none open" and a later read is an order that reached Kraken after Kraken said none was open.
 */
export function confirmedClear(confirmed: boolean, fence: FenceReport): boolean {
  return confirmed && !ordersMayLand(fence);
}

/** The command that cancels again, wherever the operator is (incident-done.ts). */
const CANCEL_AGAIN = 'ctb incident done cancel_orders (or its button in the incident thread)';

/**
 * What keeps a never-live keyless cancel from being clear (no bot has the Kraken key and the ledger
 * records no use of Kraken ever, handoff.ts neverLiveHere): the venues it asked that did not confirm,
 * and orders on their way (or that they could not be read). Nothing of this bot is on Kraken, so no
 * follow-up — which cancels only on Kraken, for a bot with the key — can make it clear: what is left
 * is said, with what the operator does next.
 */
export function neverLiveNotClear(venues: ReadonlyArray<{ venue: string; confirmed: boolean }>, fence: FenceReport): { why: string; next: string } {
  const parts = venues.filter((v) => !v.confirmed).map((v) => `${v.venue} did not confirm none open`);
  if (ordersMayLand(fence)) parts.push(fence.error ? `orders on their way could not be checked (${fence.error})` : `${fence.unresolved.length} order(s) still on their way`);
  const when = fence.error ? ' once the orders on their way can be read' : fence.unresolved.length > 0 ? ' once the orders on their way have landed' : '';
  const next = `cancel again with ${CANCEL_AGAIN}${when}`;
  return { why: parts.join(', and ') || 'not confirmed clear', next };
}
