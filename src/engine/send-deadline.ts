// Owns how long an engine's live order may still be sent after it was decided: Kraken's AddOrder
// `deadline` ("after which the matching engine should reject the new order request, in presence of
// latency or order queueing"; min now + 2 s, max now + 60 s — Kraken's REST reference, AddOrder).
// The lease fence (ledger/intent-lease.ts) covers writing the intent, not sending it: a process paused
// between the two (GC, SIGSTOP, a slow funds check, our rate limiter) could send after a standby took
// the lease over and its recovery closed the intent as never placed once NOT_FOUND_GRACE_MS passed
// without Kraken listing it (recovery.ts). With the deadline, Kraken itself refuses the order by then,
// so "never placed" after the grace is Kraken's fact, not a guess.
//
// The clocks: the deadline is counted from the fence moment, read on the engine's clock just before
// the intent's statement (so never later than its commit), and written on this host's real clock for
// Kraken, which compares it with its own. The grace counts elapsed time on the database's clock from
// the intent's write (state_changed_at to now(), both the database's), so the database's skew does not
// enter; only this host's against Kraken's does. Kraken refuses the order at
//   fence + ORDER_SEND_DEADLINE_MS + (how far this host's clock runs ahead of Kraken's),
// which stays before the grace's end (fence + NOT_FOUND_GRACE_MS or later) while this host runs less
// than NOT_FOUND_GRACE_MS - ORDER_SEND_DEADLINE_MS = 40 s ahead of Kraken. A host running behind
// Kraken only shortens the window: beyond about 17 s behind, Kraken sees less than its 2 s minimum
// left and refuses every order as invalid — loudly, with nothing placed. An NTP-synced host is within
// a second of both. (recovery-clock-skew tests: an engine whose clock is minutes off never judges the
// grace on it.)

/** How long after its fence moment an engine's live order may reach Kraken's matching engine. */
export const ORDER_SEND_DEADLINE_MS = 20_000;

/**
 * Less than this left at send time: not sent. Kraken takes no deadline under now + 2 s; the rest is
 * for the request to get there (our rate limiter, the network).
 */
export const SEND_MIN_LEFT_MS = 3_000;

/** The moment after which Kraken must refuse an order whose intent was fenced at `fencedAt`. */
export function sendDeadline(fencedAt: Date): Date {
  return new Date(fencedAt.getTime() + ORDER_SEND_DEADLINE_MS);
}

/**
 * Right before the send: how long Kraken may still place an order fenced at `fencedAt` (AddOrder's
 * deadline, as OrderRequest.sendWithinMs), or, with less than SEND_MIN_LEFT_MS left, why it is not
 * sent — the intent is then closed as not sent, and nothing says it was.
 */
export function sendWindow(fencedAt: Date, now: Date): { sendWithinMs: number } | { notSent: string } {
  const left = sendDeadline(fencedAt).getTime() - now.getTime();
  if (left >= SEND_MIN_LEFT_MS) return { sendWithinMs: left };
  const decidedAgo = Math.round((now.getTime() - fencedAt.getTime()) / 1000);
  return {
    notSent: `not sent: the order was decided ${decidedAgo} s ago and Kraken must receive it within ${ORDER_SEND_DEADLINE_MS / 1000} s of that `
      + `(less than ${SEND_MIN_LEFT_MS / 1000} s was left); nothing was placed`,
  };
}
