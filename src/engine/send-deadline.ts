// Owns how long an engine's live order may still be sent after it was decided: Kraken's AddOrder
// `deadline` ("after which the matching engine should reject the new order request, in presence of
// latency or order queueing"; min now + 2 s, max now + 60 s — Kraken's REST reference, AddOrder).
// The lease fence (ledger/intent-lease.ts) covers writing the intent, not sending it: a process paused
// between the two (GC, SIGSTOP, a slow funds check, our rate limiter) could send after a standby took
// the lease over and its recovery closed the intent as never placed once NOT_FOUND_GRACE_MS passed
// without Kraken listing it (recovery.ts). With the deadline, Kraken itself refuses the order by then,
// so "never placed" after the grace is Kraken's fact, not a guess.
//
// The clocks: the fence moment is read on the engine's clock just before the intent's statement (so
// never later than its commit), and beside it this host's real clock: the send-by moment handed to
// the adapter is absolute, that reading + ORDER_SEND_DEADLINE_MS (sendByFromNow), never a duration
// restarted after the adapter's own waits (its market load). The adapter checks what is left right
// before the request leaves (exchange/send-by.ts) and writes the deadline on Kraken's clock: the
// send-by moment plus the measured offset of Kraken's public Time from this host's clock
// (kraken/kraken-time.ts), rounded down to whole seconds. So how far this host's clock is off
// Kraken's does not enter; only the offset's error does: about 1 s (a reading taken mid-way through a
// round trip of at most 1 s, of a clock given in whole seconds), at most about 2 s when an offset
// within that error is taken as none. The grace counts elapsed time on the database's clock from the
// intent's write (state_changed_at to now(), both the database's), so the database's skew does not
// enter either. Kraken refuses the order at
//   fence + ORDER_SEND_DEADLINE_MS + (the offset's error, at most about 2 s),
// well before the grace's end (fence + NOT_FOUND_GRACE_MS or later). Only when Kraken's Time cannot
// be read is the deadline written on this host's clock (said at warn): then a host running more than
// NOT_FOUND_GRACE_MS - ORDER_SEND_DEADLINE_MS = 40 s ahead of Kraken would outlast the grace (Kraken
// refuses a deadline over 60 s ahead as invalid, so it is refused loudly), and one about 20 s behind
// sends deadlines Kraken already sees past. (recovery-clock-skew tests: an engine whose clock is
// minutes off never judges the grace on it.)

import { notSentLate, SEND_MIN_LEFT_MS } from '../exchange/send-by.js';

export { SEND_MIN_LEFT_MS };

/** How long after its fence moment an engine's live order may reach Kraken's matching engine. */
export const ORDER_SEND_DEADLINE_MS = 20_000;

/** The moment after which Kraken must refuse an order whose intent was fenced at `fencedAt`. */
export function sendDeadline(fencedAt: Date): Date {
  return new Date(fencedAt.getTime() + ORDER_SEND_DEADLINE_MS);
}

/**
 * Before the order is handed to the adapter: how long Kraken may still place an order fenced at
 * `fencedAt` on the engine's clock, or, with less than SEND_MIN_LEFT_MS left, why it is not sent —
 * the intent is then closed as not sent, and nothing says it was. (The adapter checks again, on the
 * absolute send-by moment, right before the request leaves: exchange/send-by.ts.)
 */
export function sendWindow(fencedAt: Date, now: Date): { sendWithinMs: number } | { notSent: string } {
  const left = sendDeadline(fencedAt).getTime() - now.getTime();
  if (left >= SEND_MIN_LEFT_MS) return { sendWithinMs: left };
  return { notSent: notSentLate(now.getTime() - fencedAt.getTime(), ORDER_SEND_DEADLINE_MS) };
}

/**
 * Read beside the engine's fence moment: the absolute moment on this host's real clock by which
 * Kraken must have the order (OrderRequest.sendBy), fixed now, whatever the adapter waits for later.
 */
export function sendByFromNow(): Date {
  return new Date(Date.now() + ORDER_SEND_DEADLINE_MS);
}
