// The one way a test file that shares its worker process (tests/support/shared-worker-files.ts) may
// change process.env: for one call, put back when the call ends however it ends. A variable that was
// unset is deleted again, not set to the string "undefined" (what `process.env.X = old` stores when
// `old` is undefined). tests/unit/shared-worker-files.test.ts forbids every other write there.

type Vars = Record<string, string | undefined>;

function apply(vars: Vars): void {
  for (const [name, value] of Object.entries(vars)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
}

/**
 * `fn`'s result, with `vars` set in process.env while it runs (a value of undefined unsets the
 * variable) and every one of them back as it was once `fn` returns, throws, or its promise settles.
 */
export function withEnv<T>(vars: Vars, fn: () => Promise<T>): Promise<T>;
export function withEnv<T>(vars: Vars, fn: () => T): T;
export function withEnv<T>(vars: Vars, fn: () => T | Promise<T>): T | Promise<T> {
  const before: Vars = {};
  for (const name of Object.keys(vars)) before[name] = Object.prototype.hasOwnProperty.call(process.env, name) ? process.env[name] : undefined;
  const restore = () => apply(before);
  apply(vars);
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
