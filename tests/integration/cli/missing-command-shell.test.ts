// A command line that names no command did nothing: `ctb` and `ctb alerts` alone are usage errors
// (exit 2, as every other usage error), with the help on stderr and the error as its last line;
// asking for the help (`ctb --help`, `ctb help`, `ctb alerts --help`) is not.
import { describe, expect, it } from 'vitest';
import { ctbInShell } from '../../support/ctb-shell.js';

describe('ctb without a command', () => {
  it('exits 2 for bare ctb, with the help on stderr and what is missing last', async () => {
    const run = await ctbInShell([], {});
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('Usage: ctb [options] [command]');
    expect(run.stderr.trimEnd().split('\n').at(-1)).toBe('error: ctb needs a command (the commands are listed above)');
  });

  it('exits 2 for ctb alerts alone, naming the commands it takes', async () => {
    const run = await ctbInShell(['alerts'], {});
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('Usage: ctb alerts [options] [command]');
    expect(run.stderr.trimEnd().split('\n').at(-1)).toBe('error: ctb alerts needs a command: one of list, test, ack, resolve, silence');
  });

  it('exits 0 when the help is asked for', async () => {
    for (const args of [['--help'], ['help'], ['alerts', '--help'], ['help', 'alerts']]) {
      const run = await ctbInShell(args, {});
      expect({ args, code: run.code }).toEqual({ args, code: 0 });
      expect(run.stdout).toContain('Usage: ctb');
    }
  });
});
