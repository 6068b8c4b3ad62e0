// The one error handler of the Slack transport: every failure gets a reference id that is both in
// the log line and in the ephemeral reply, so a user's screenshot leads straight to the log entry.
// AppErrors carry a user-facing message; anything else is shown as a generic failure (no internals,
// no secrets) and logged at error level.
import { randomBytes } from 'node:crypto';
import type { Logger } from '../logger.js';
import { AppError } from '../errors.js';
import { renderError, renderInternalError } from './views/error.js';
import type { SlackMessage } from './views/message.js';

const ALPHABET = '23456789ABCDEFGHJKLMNPQRSTUVWXYZ';

/** Short, unambiguous reference ids such as `E-7K2Q9M`. */
export function errorReference(): string {
  const bytes = randomBytes(6);
  let id = '';
  for (const b of bytes) id += ALPHABET[b % ALPHABET.length];
  return `E-${id}`;
}

const EXPECTED_KINDS = new Set(['usage', 'forbidden', 'conflict', 'check_failed', 'rejected']);

/** Logs the error with a fresh reference and returns the message to show the user. */
export function describeSlackError(logger: Logger, err: unknown, where: Record<string, unknown>): { reference: string; message: SlackMessage } {
  const reference = errorReference();
  if (err instanceof AppError) {
    const level = EXPECTED_KINDS.has(err.kind) ? 'warn' : 'error';
    logger[level]({ err, reference, kind: err.kind, code: err.code, ...where }, `slack request failed: ${err.code} (${reference})`);
    return { reference, message: renderError({ message: err.message, hint: err.hint, reference }) };
  }
  logger.error({ err, reference, ...where }, `slack request failed (${reference})`);
  return { reference, message: renderInternalError(reference) };
}
