// Owns how long a cancel handed to another process stays worth carrying out: past this, its
// requester stopped waiting long ago — the handler refuses it (engine-requests/handlers.ts), an
// incident read closes a kill's follow-up nobody took (services/kill/incident.ts), and the kill's
// replies say how long a follow-up waits for a bot with the Kraken key to start.
export const CANCEL_ALL_STALE_MS = 5 * 60_000;
