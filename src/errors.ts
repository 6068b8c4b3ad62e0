// Owns the project's one error type. A kind is a policy: transports decide how to show it,
// the engine decides whether to retry, report or halt from it.
export type ErrorKind =
  | 'usage' // bad input from a person (CLI args, Slack text): exit 2 / usage reply
  | 'config' // bad configuration: exit 2
  | 'forbidden' // the actor may not do this
  | 'conflict' // state forbids it right now (halted, not armed, already done)
  | 'retryable' // transient exchange/network trouble: back off and retry
  | 'rejected' // the exchange refused this order/request; do not retry as is
  | 'auth' // credentials or permissions wrong: halt and page
  | 'halt' // something that must stop trading at once
  | 'check_failed' // a check ran and failed: exit 1
  | 'internal';

export class AppError extends Error {
  readonly kind: ErrorKind;
  readonly code: string;
  readonly hint: string | undefined;
  /** The hint in the terminal's terms (`ctb trades`) where `hint` speaks Slack's (`/trades`, the alert message). */
  readonly terminalHint: string | undefined;

  constructor(kind: ErrorKind, code: string, message: string, opts: { hint?: string; terminalHint?: string; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'AppError';
    this.kind = kind;
    this.code = code;
    this.hint = opts.hint;
    this.terminalHint = opts.terminalHint;
  }

  /**
   * What a person sees: what is wrong and what to do. After a list (a message of several lines) the
   * hint goes on a line of its own, so it never runs on from the list's last item.
   */
  get userMessage(): string {
    return this.withHint(this.hint);
  }

  /** userMessage as the terminal shows it: its own hint where it has one. */
  get terminalMessage(): string {
    return this.withHint(this.terminalHint ?? this.hint);
  }

  private withHint(hint: string | undefined): string {
    if (!hint) return this.message;
    return this.message.includes('\n') ? `${this.message}\n${hint}` : `${this.message} ${hint}`;
  }
}

export function isAppError(err: unknown, kind?: ErrorKind): err is AppError {
  return err instanceof AppError && (kind === undefined || err.kind === kind);
}

export function exitCodeFor(err: unknown): number {
  if (err instanceof AppError) {
    if (err.kind === 'usage' || err.kind === 'config' || err.kind === 'forbidden') return 2;
    return 1;
  }
  return 1;
}

/**
 * Whether `err` is a bug in this program (TypeError, ReferenceError, RangeError, SyntaxError) rather
 * than trouble outside it: retrying does not repair it, so it is an error that pages, not a warning.
 * Node's fetch reports a failed connection as "TypeError: fetch failed": that is the network, not a bug.
 */
export function isProgramError(err: unknown): boolean {
  if (err instanceof AppError) return false;
  const bug = err instanceof TypeError || err instanceof ReferenceError || err instanceof RangeError || err instanceof SyntaxError;
  return bug && !(err instanceof TypeError && err.message === 'fetch failed');
}
