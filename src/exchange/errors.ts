// The exchange's errors, in the project's kinds. Adapters translate at the edge; callers
// decide from the kind: retryable → back off and retry; rejected → give up this order;
// auth → halt and page; halt → stop trading now.
import { AppError, type ErrorKind } from '../errors.js';

export type ExchangeErrorKind = Extract<ErrorKind, 'retryable' | 'rejected' | 'auth' | 'halt' | 'conflict'>;

export class ExchangeError extends AppError {
  readonly exchangeCode: string | undefined;
  constructor(kind: ExchangeErrorKind, code: string, message: string, opts: { hint?: string; cause?: unknown; exchangeCode?: string } = {}) {
    super(kind, code, message, opts);
    this.name = 'ExchangeError';
    this.exchangeCode = opts.exchangeCode;
  }
}

export class LiveTradingNotArmedError extends AppError {
  constructor() {
    super('conflict', 'not_armed', 'Live trading is not armed: IS_LIVE is not true in this process.', {
      hint: 'Set IS_LIVE=true with Kraken keys and restart, then request the live switch (two approvals).',
    });
  }
}
