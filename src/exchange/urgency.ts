// Owns the urgent lane of exchange calls: a kill's cancel and its confirmation run inside
// `urgently(...)`, and every client-side limiter lets such calls through at once, ahead of any
// queued ordinary call. Carried by AsyncLocalStorage, so the Exchange port needs no extra argument
// and a call cannot claim urgency by accident from outside a kill.
import { AsyncLocalStorage } from 'node:async_hooks';

const lane = new AsyncLocalStorage<true>();

/** Runs `fn` with every exchange call it makes in the urgent lane. */
export function urgently<T>(fn: () => Promise<T>): Promise<T> {
  return lane.run(true, fn);
}

/** Whether the current call was started inside `urgently`. */
export function isUrgent(): boolean {
  return lane.getStore() === true;
}
