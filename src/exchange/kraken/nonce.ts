// Owns the nonce of every private Kraken call this process makes. Kraken refuses a nonce not higher
// than the last one it saw for the key, and ccxt's default (the clock in milliseconds, per client)
// repeats itself when two clients of one process call in the same millisecond. One process-wide
// source, strictly increasing, shared by every client we build.
//
// Not strictly increasing across processes, on purpose. Other processes using the key (web and
// worker, an operator's `ctb`) take theirs from the same millisecond clock, so they collide only
// when two sign in the same millisecond, or when one ran ahead of the clock in a burst. A shared
// counter would need a lock taken synchronously inside every signing (the kill's first cancel
// included), left stale by a `kill -9`, and useless across machines (web and worker may run on
// different hosts); and it would not stop the refusal seen in practice, because a lower nonce can
// still reach Kraken after a higher one signed a moment later by another process. Switching to a
// finer unit (microseconds) to spread processes apart is one-way at Kraken — a key's nonce can
// never go back down — so an older release or another tool on the key would be refused for good.
// What handles it instead: a call refused for its nonce is sent again with a fresh one
// (call-retry.ts), and the README asks for a nonce window on the key.
let last = 0;

export function nextNonce(): number {
  last = Math.max(Date.now(), last + 1);
  return last;
}
