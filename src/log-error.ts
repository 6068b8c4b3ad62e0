// Owns how an error is written to the log: pino's serializer, except that a cause's message is added
// to the line's message only when that message does not already say it. Errors translated at the
// edge quote their cause ("…did not answer OHLC: kraken GET … fetch failed"), and pino appending
// every cause again printed the same text two or three times in one line.
import type pino from 'pino';

/** The error's message, then each cause's message that it does not already contain. */
function messageWithNewCauses(err: Error): string {
  let message = err.message;
  const seen = new Set<unknown>([err]);
  for (let cause: unknown = err.cause; cause instanceof Error && !seen.has(cause); cause = cause.cause) {
    seen.add(cause);
    if (cause.message && !message.includes(cause.message)) message += `: ${cause.message}`;
  }
  return message;
}

/** pino's `err` serializer with the message de-duplicated (the stack keeps every cause). */
export function errSerializer(std: typeof pino.stdSerializers.err): (err: unknown) => unknown {
  return (err) => {
    const out = std(err as Error) as unknown;
    if (err instanceof Error && out && typeof out === 'object') (out as { message: string }).message = messageWithNewCauses(err);
    return out;
  };
}
