// Owns what an unknown option's error says beyond its name: that the command did not run (for the
// kill switch, that nothing was killed), and the line to run instead when one option is meant. It
// also finds the unknown option commander hides: under a command with subcommands (`ctb kill saved`),
// `ctb kill --reasn "fills look wrong"` reaches commander as the unknown subcommand "fills look wrong".
import type { Command } from 'commander';
import { parseDuration } from '../config/duration.js';

// Known on every line: help, and --json (runCli reads it wherever it stands, usage-errors.ts wantsJson).
const HELP_FLAGS = new Set(['--help', '-h', '--json']);

function knownFlag(command: Command, flag: string): { takesValue: boolean } | null {
  for (let c: Command | null = command; c; c = c.parent) {
    const option = c.options.find((o) => o.long === flag || o.short === flag);
    if (option) return { takesValue: option.required || option.optional };
  }
  return HELP_FLAGS.has(flag) ? { takesValue: false } : null;
}

/**
 * The first option typed that no command on the line knows (`--reasn`), or undefined. A negative
 * duration is no option. `beforeWord`: only one typed under a command below the program and before
 * any word that names no subcommand (`ctb mode livee --x` is a mistyped subcommand first).
 */
export function strayOption(program: Command, argv: string[], beforeWord = false): string | undefined {
  let command = program;
  let operands = 0;
  for (let i = 0; i < argv.length; i += 1) {
    const word = argv[i]!;
    if (word === '--') break;
    if (word.startsWith('-') && word.length > 1) {
      const flag = word.split('=')[0]!;
      const known = knownFlag(command, flag);
      if (!known) {
        if (beforeWord && (operands > 0 || command === program)) return undefined;
        return flag.startsWith('--') || parseDuration(flag.slice(1)) === undefined ? flag : undefined;
      }
      if (known.takesValue && !word.includes('=')) i += 1;
      continue;
    }
    const sub = operands === 0 ? command.commands.find((c) => c.name() === word || c.aliases().includes(word)) : undefined;
    if (sub) command = sub;
    else operands += 1;
  }
  return undefined;
}

/** A word as a POSIX shell reads it back: quoted when it holds anything but plain characters. */
function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * " ctb kill did not run: nothing was killed (no order cancelled, the bot not halted). Run: ctb kill --reason 'fills look wrong'".
 * `meant` is the one option meant, when only one is near.
 */
export function notRunText(path: string, argv: string[], stray: string, meant: string | undefined): string {
  const nothing = path === 'ctb kill' ? 'nothing was killed (no order cancelled, the bot not halted)' : 'nothing was done';
  const line = meant === undefined ? null
    : ['ctb', ...argv.map((w) => (w === stray ? meant : w.startsWith(`${stray}=`) ? `${meant}${w.slice(stray.length)}` : w))].map(shellWord).join(' ');
  return ` ${path} did not run: ${nothing}.${line ? ` Run: ${line}` : ''}`;
}
