// Owns how long a cancel handed to another process stays worth carrying out: past this, its
// requester stopped waiting long ago — the handler refuses it (engine-requests/handlers.ts), an
// incident read closes a kill's follow-up nobody took (services/kill/incident.ts), and the kill's
// replies say how long a follow-up waits for a bot with the Kraken key to start; and how long a
// follow-up a bot took goes on trying.
export const CANCEL_ALL_STALE_MS = 5 * 60_000;

/**
 * How long a kill's follow-up (the running bot with the Kraken key retrying an unconfirmed cancel)
 * goes on trying, from the moment it was written (services/kill/cancel-follow-up.ts).
 */
export const CANCEL_FOLLOW_UP_MS = 10 * 60_000;

/** A count of cancel tries as said to people: "1 try", "3 tries". */
export function triesCount(n: number): string {
  return `${n} ${n === 1 ? 'try' : 'tries'}`;
}
