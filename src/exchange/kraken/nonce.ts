// Owns the nonce of every private Kraken call this process makes. Kraken refuses a nonce not higher
// than the last one it saw for the key, and ccxt's default (the clock in milliseconds, per client)
// repeats itself when two clients of one process call in the same millisecond. One process-wide
// source, strictly increasing, shared by every client we build.
let last = 0;

export function nextNonce(): number {
  last = Math.max(Date.now(), last + 1);
  return last;
}
