// Owns the start banner's bounded waits on the engine (its first try for the lease, its first pass):
// at most a while, and no longer than the bot's start goes on — a stop signal ends them at once.

/**
 * Waits for `event` at most `waitMs`, or until `stop` is aborted (at once if it already is): true when
 * the event came first. Leaves no timer or listener behind.
 */
export async function waitWithin(event: Promise<unknown>, waitMs: number, stop?: AbortSignal): Promise<boolean> {
  if (stop?.aborted) return false;
  let timer: NodeJS.Timeout | undefined;
  let onStop = () => {};
  try {
    return await Promise.race([
      event.then(() => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), waitMs);
        onStop = () => resolve(false);
        stop?.addEventListener('abort', onStop, { once: true });
      }),
    ]);
  } finally {
    clearTimeout(timer);
    stop?.removeEventListener('abort', onStop);
  }
}
