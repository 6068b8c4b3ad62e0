// Bounded waits for the kill path. A kill must answer even when the database stalls (a hung
// query never rejects by itself) or the paper exchange waits on that database: every step that
// is not the exchange cancel runs under a deadline, and a missed deadline is an ordinary error.
import { AppError } from '../../errors.js';

export class DeadlineError extends AppError {
  constructor(what: string, ms: number) {
    super('retryable', 'deadline', `${what} did not answer within ${ms} ms.`);
  }
}

export function withDeadline<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineError(what, ms)), ms);
    timer.unref?.();
  });
  // The losing promise may still settle later; keep its rejection from being unhandled.
  work.catch(() => {});
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms).unref?.());

export function describeError(err: unknown): string {
  if (err instanceof AppError) return `${err.code}: ${err.message}`;
  if (err instanceof Error) return err.message;
  return String(err);
}
