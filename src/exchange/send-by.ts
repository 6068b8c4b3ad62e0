// Owns the last check before a live order with a send-by moment (OrderRequest.sendBy) leaves for
// the venue: what is left of it, on the venue's clock, once the deadline actually written is known.
// It lives with the exchange port, not the engine, because only the adapter knows when the request
// really leaves (after its market load) and how the venue's clock reads (kraken/kraken-time.ts).

/**
 * Less than this left at send time: not sent. Kraken takes no deadline under now + 2 s; the rest is
 * for the request to get there (our rate limiter, the network).
 */
export const SEND_MIN_LEFT_MS = 3_000;

/** The error code of an order not sent because too little of its send-by moment was left. */
export const NOT_SENT_LATE = 'not_sent_late';

/** Why an order is not sent `decidedAgoMs` after it was decided, when it had to reach Kraken within `sendWithinMs` of that. */
export function notSentLate(decidedAgoMs: number, sendWithinMs: number): string {
  return `not sent: the order was decided ${Math.round(decidedAgoMs / 1000)} s ago and Kraken must receive it within ${sendWithinMs / 1000} s of that `
    + `(less than ${SEND_MIN_LEFT_MS / 1000} s was left); nothing was placed`;
}

/** Why an order is not sent when, right before its request would leave, less than SEND_MIN_LEFT_MS is left of its send-by moment. */
export function notSentBy(sendBy: Date, leftMs: number): string {
  return `not sent: Kraken had to receive the order by ${sendBy.toISOString()} and only ${Math.max(0, leftMs)} ms (less than `
    + `${SEND_MIN_LEFT_MS / 1000} s) was left of that when its request could leave; nothing was placed`;
}
