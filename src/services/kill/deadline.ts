// Bounded waits for the kill path. A kill must answer even when the database stalls (a hung
// query never rejects by itself) or the paper exchange waits on that database: every step that
// is not the exchange cancel runs under a deadline, and a missed deadline is an ordinary error.
import { DrizzleQueryError } from 'drizzle-orm/errors';
import { databaseProblem, networkFailure } from '../../db/connect-errors.js';
import { AppError } from '../../errors.js';

export class DeadlineError extends AppError {
  constructor(what: string, ms: number) {
    super('retryable', 'deadline', `${what} did not answer within ${ms} ms.`);
  }
}

/**
 * Each exchange call of a kill's cancel rounds is given up after this long (the "one call's deadline"
 * of its answer's bound) unless KILL_CALL_TIMEOUT says otherwise: its default. Here, not with the
 * rounds, so a shell's early cancel can use it without them.
 */
export const KILL_CALL_TIMEOUT_MS = 10_000;

export function withDeadline<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    // Not unref'd: the caller awaits this race, so the timer is what settles it when the work
    // never does (a refused connection leaves no socket to keep the process alive, and an unref'd
    // timer let Node exit 13 with the kill unsaved). It is cleared as soon as the race settles.
    timer = setTimeout(() => reject(new DeadlineError(what, ms)), ms);
  });
  // The losing promise may still settle later; keep its rejection from being unhandled.
  work.catch(() => {});
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

/** An awaited pause: it keeps the process alive for its length, as any awaited wait must. */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export function describeError(err: unknown): string {
  // A query that failed because the database is unreachable says why, not which query it was.
  err = databaseProblem(err) ?? err;
  // A query the database answered with an error: what it said, not the query and its parameters
  // (a whole INSERT in an alert title or a reply).
  if (err instanceof DrizzleQueryError && err.cause instanceof Error) return `a database query failed: ${err.cause.message}`;
  if (err instanceof AppError) return `${err.code}: ${err.message}`;
  // Any other remote that could not be reached (Kraken, Slack, a webhook, a closed pipe) is named as
  // itself — never as the database — with the address and code under fetch's bare "fetch failed".
  const network = networkFailure(err);
  if (network !== null) return network;
  if (err instanceof Error) return err.message;
  return String(err);
}
