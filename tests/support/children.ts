// The helper processes tests start, built to JavaScript before the run (tests/support/build-children.ts):
// a test spawns `node childScript('engine-child')`, which runs the built tests/support/engine-child.ts.
import { join } from 'node:path';
import { inject } from 'vitest';
import { CHILDREN_KEY, type CHILD_ENTRIES } from './build-children.js';

declare module 'vitest' {
  export interface ProvidedContext {
    ctbTestChildren: string;
  }
}

/** The built file of a child entry, for `spawn(process.execPath, [childScript(name), ...args])`. */
export function childScript(name: keyof typeof CHILD_ENTRIES): string {
  return join(inject(CHILDREN_KEY), `${name}.mjs`);
}
