// The helper processes tests start, built to JavaScript before the run (tests/support/build-children.ts):
// a test spawns `node childScript('engine-child')`, which runs the built tests/support/engine-child.ts.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { expect, inject } from 'vitest';
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

/**
 * A child entry that speaks in lines: started with its stdio piped, loaded once it prints `ready`.
 * The test writes lines to it (`send`), reads its answers one at a time (`next`), and at the end
 * expects it to exit 0 having written nothing to stderr (`exitClean`, after `endInput` if the child
 * runs until its input ends).
 */
export async function lineChild(name: keyof typeof CHILD_ENTRIES, args: string[] = []) {
  const child = spawn(process.execPath, [childScript(name), ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += String(d)));
  const exited = once(child, 'exit');
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async () => (await lines.next()).value as string;
  expect(await next()).toBe('ready');
  return {
    pid: child.pid,
    send: (line: string) => child.stdin.write(`${line}\n`),
    next,
    endInput: () => child.stdin.end(),
    async exitClean() {
      const [code] = await exited;
      expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    },
  };
}
