// Owns how an unhandled error looks in the logs: the process handlers (src/app/crash-handlers.ts)
// write these fields, and the go-live log check recognises them (plus any line at error level or above).
export const UNHANDLED_EVENTS = ['uncaughtException', 'unhandledRejection'] as const;
export type UnhandledEvent = (typeof UNHANDLED_EVENTS)[number];

/** pino numeric levels: 50 error, 60 fatal. */
export const ERROR_LEVEL = 50;

export const UNHANDLED_MESSAGE: Record<UnhandledEvent, string> = {
  uncaughtException: 'uncaught exception',
  unhandledRejection: 'unhandled rejection',
};

/**
 * Text markers that also identify an unhandled error written by other code or Node itself, anywhere in
 * a line: "uncaught exception", "Uncaught TypeError: …", "unhandled rejection", "UnhandledPromiseRejection".
 */
export const UNHANDLED_TEXT = /\b(uncaught ?exception|uncaught \w*(error|exception)|unhandled ?(promise ?)?rejection)/i;

/** Error types that mean a bug in the program, not a failure outside it: worth reading even when logged below error level. */
export const PROGRAM_ERROR_TYPES = ['TypeError', 'ReferenceError', 'SyntaxError', 'RangeError'] as const;
