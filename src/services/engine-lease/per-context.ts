// Owns keeping one value per context for the engine's parts in this process (its lease probe, its
// progress): keyed by the context's job registry, which every copy of a context shares, and gone
// with it. Unset, a context runs no engine.
import type { JobRegistry } from '../../jobs/registry.js';

/** What a value is kept by: the job registry, which every copy of a context shares. */
export interface PerContextKey {
  jobs: JobRegistry;
}

export interface PerContext<T> {
  get(ctx: PerContextKey): T | undefined;
  /** Keeps `value` for the context; null forgets it. */
  set(ctx: PerContextKey, value: T | null): void;
}

export function perContext<T>(): PerContext<T> {
  const values = new WeakMap<JobRegistry, T>();
  return {
    get: (ctx) => values.get(ctx.jobs),
    set(ctx, value) {
      if (value === null) values.delete(ctx.jobs);
      else values.set(ctx.jobs, value);
    },
  };
}
