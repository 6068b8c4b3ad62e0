// The one way a test file that shares its worker process (tests/support/shared-worker-files.ts) may
// change the working directory: for one call (a command run in this process from the directory an
// operator would run it in), put back when the call ends however it ends.
// tests/unit/shared-worker-files.test.ts forbids every other process.chdir there.

/** `fn`'s result, run with `dir` as the working directory; the one before is back once `fn` returns, throws, or its promise settles. */
export function withCwd<T>(dir: string, fn: () => Promise<T>): Promise<T>;
export function withCwd<T>(dir: string, fn: () => T): T;
export function withCwd<T>(dir: string, fn: () => T | Promise<T>): T | Promise<T> {
  const before = process.cwd();
  const restore = () => process.chdir(before);
  process.chdir(dir);
  let result: T | Promise<T>;
  try {
    result = fn();
  } catch (error) {
    restore();
    throw error;
  }
  if (typeof (result as { then?: unknown } | null)?.then === 'function') return Promise.resolve(result).finally(restore);
  restore();
  return result;
}
