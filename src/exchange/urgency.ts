// Owns the urgent lane of exchange calls: a kill's cancel and its confirmation run inside
// `urgently(...)`, and every client-side limiter lets such calls through at once, ahead of any
// queued ordinary call. Carried by AsyncLocalStorage, so the Exchange port needs no extra argument
// and a call cannot claim urgency by accident from outside a kill. On Node 20 an AsyncLocalStorage
// in use turns on promise hooks for the whole process, which about doubles what every promise costs
// (Slack's acks, the database, the engine): the lane is switched off again once no urgent work is
// running, so a bot that has run a kill does not pay for it ever after.
import { AsyncLocalStorage } from 'node:async_hooks';

const lane = new AsyncLocalStorage<true>();
/** Urgent work started and not yet settled. */
let running = 0;

/** Runs `fn` with every exchange call it makes in the urgent lane. */
export async function urgently<T>(fn: () => Promise<T>): Promise<T> {
  running += 1;
  try {
    return await lane.run(true, fn);
  } finally {
    running -= 1;
    // A call `fn` started and did not wait for (one a deadline gave up on) is ordinary from here on.
    if (running === 0) lane.disable();
  }
}

/** Whether the current call was started inside `urgently`. */
export function isUrgent(): boolean {
  return lane.getStore() === true;
}
