// Owns the `ctb` command line: one subcommand per operator command (commander), --json for
// machine output, exit codes 0 ok / 1 check failed or work not done / 2 usage or config error (README).
// Loading is lazy: `ctb <name> …` imports only the module that registers <name> (see
// commands/index.ts); `ctb --help`, `ctb` alone and an unknown name get every command's name and
// one-line summary without importing any of them — but an unknown name with no command near it, which
// imports them all to look for a deeper command it names (`ctb notify` → ctb incident done notify_stakeholders).
import { Command, CommanderError } from 'commander';
import type { CliIo } from './io.js';
import { changesAccount } from './changes-account.js';
import { cliCommands, type CliCommandEntry } from './commands/index.js';
import { commandAt, commandPath, describeUsageError, helpHintFor, reportUsageError, usageProblem, wantsJson, withDeeperSuggestion } from './usage-errors.js';

const HELP_HINT = '(run ctb --help for the commands and their options)';

export interface CliRegistration {
  /** Adds its subcommand(s) to the program; the action stores the exit code through setExit. */
  register(program: Command, io: CliIo, setExit: (code: number) => void): void;
}

/** `ctb --version` and `ctb -V` are `ctb version` (same text, same --json). */
function normaliseArgv(argv: string[]): string[] {
  return argv[0] === '--version' || argv[0] === '-V' ? ['version', ...argv.slice(1)] : argv;
}

/** The word `ctb help …` asks help for: the first after `help` that is not an option (`ctb help --json stats`). */
function helpTopic(argv: string[]): string | undefined {
  return argv[0] === 'help' ? argv.slice(1).find((w) => !w.startsWith('-')) : undefined;
}

/**
 * `ctb help --json stats` as `ctb help stats --json`: commander takes the words after an option it
 * does not know as that option's, and would show the whole program's help instead of the command's.
 */
function normaliseHelp(argv: string[]): string[] {
  const topic = helpTopic(argv);
  if (topic === undefined) return argv;
  const at = argv.indexOf(topic, 1);
  return ['help', topic, ...argv.slice(1, at), ...argv.slice(at + 1)];
}

/** Whether `word` is an option of `command` that takes a value (`--period 7d`: 7d is its value, not a word). */
function takesValue(command: Command, word: string): boolean {
  if (word.includes('=')) return false;
  const option = command.options.find((o) => o.long === word || o.short === word);
  return option !== undefined && (option.required || option.optional);
}

/**
 * `ctb help mode live` as `ctb mode live --help`: commander shows the topic's help whatever words
 * follow it. Each word after the topic must name a subcommand of the one before it; the first that
 * does not, under a command that has subcommands, is an unknown command there, as `ctb mode bogus`
 * is (runCli reports it). Under a command without subcommands the rest is what one would type after
 * it (`ctb help stats --period 7d`, `ctb help oncall override U1 1h`): its help is shown and the
 * words are named as ignored. An option's value is never taken for a word.
 */
function helpOfSubcommand(program: Command, argv: string[]): { argv: string[]; path: string[]; ignored: string[] } {
  if (argv[0] !== 'help') return { argv, path: [], ignored: [] };
  const rest = argv.slice(1);
  const path: string[] = [];
  const flags: string[] = [];
  const ignored: string[] = [];
  let valued = false;
  let command = program;
  for (let i = 0; i < rest.length; i += 1) {
    const word = rest[i]!;
    if (word.startsWith('-')) {
      // Options that take a value do not change what help shows: left out, with their value.
      if (takesValue(command, word)) {
        valued = true;
        i += 1;
      } else if (word.includes('=')) valued = true;
      else flags.push(word);
      continue;
    }
    const sub = ignored.length > 0 ? undefined : command.commands.find((c) => c.name() === word || c.aliases().includes(word));
    if (sub) {
      path.push(word);
      command = sub;
    } else if (command.commands.length > 0) {
      throw new CommanderError(1, 'commander.unknownCommand', `unknown command '${word}'`);
    } else {
      ignored.push(word);
    }
  }
  if (path.length < 2 && ignored.length === 0 && !valued) return { argv, path, ignored };
  return { argv: [...path, ...flags, '--help'], path, ignored };
}

/** The command `argv` runs (or asks help for), if it names one. */
export function commandOf(argv: string[]): CliCommandEntry | undefined {
  const name = argv[0] === 'help' ? helpTopic(argv) : argv[0];
  return name === undefined ? undefined : cliCommands.find((c) => c.name === name);
}

/** `writeErr` takes commander's own error output (runCli holds it back to reword or print it as JSON). */
export async function buildProgram(
  io: CliIo,
  setExit: (code: number) => void,
  argv: string[] = [],
  writeErr: (s: string) => void = (s) => io.stderr.write(s),
): Promise<Command> {
  const program = new Command('ctb')
    .description('crypto-trading-bot: Kraken trading engine (paper by default) — operator commands')
    .showHelpAfterError(HELP_HINT)
    // Root options only before the command name: `ctb mode status -V` is an error, not a version.
    .enablePositionalOptions()
    // Listed for --help; runCli turns a leading --version/-V into `ctb version`.
    .option('-V, --version', 'print the release tag or commit (the same as ctb version)')
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr,
    })
    .exitOverride();
  const wanted = commandOf(argv);
  if (wanted) {
    (await wanted.load()).register(program, io, setExit);
  } else {
    // Names and summaries only: enough for the command list and for "unknown command" errors.
    for (const entry of cliCommands) {
      const command = program.command(entry.name).description(entry.summary);
      if (entry.changesAccount) changesAccount(command);
    }
  }
  return program;
}

export async function runCli(argv: string[], callerIo: CliIo): Promise<number> {
  argv = normaliseHelp(normaliseArgv(argv));
  const io: CliIo = { ...callerIo };
  let code = 0;
  let held = '';
  const program = await buildProgram(
    io,
    (c) => {
      code = c;
    },
    argv,
    (s) => {
      held += s;
    },
  );
  // A usage error a command raises (its argument checks) points where commander's own errors do.
  io.usageHint = helpHintFor(program, argv);
  try {
    // `ctb help bogus` (and `ctb help --json bogus`): commander prints the whole help and exits 0, as
    // if asked for it; it is an unknown command, as `ctb bogus` is.
    if (helpTopic(argv) !== undefined && !commandOf(argv)) {
      throw new CommanderError(1, 'commander.unknownCommand', `unknown command '${argv[1]}'`);
    }
    // `ctb bogus --help` likewise: commander would show the whole help and exit 0, as if asked for it.
    if (argv[0] !== undefined && !argv[0].startsWith('-') && argv[0] !== 'help' && !commandOf(argv)) {
      throw new CommanderError(1, 'commander.unknownCommand', `unknown command '${argv[0]}'`);
    }
    const help = helpOfSubcommand(program, argv);
    if (help.ignored.length > 0) {
      io.stderr.write(`ctb help takes a command name: showing the help of ctb ${help.path.join(' ')}; ignored: ${help.ignored.join(' ')}\n`);
    }
    await program.parseAsync(help.argv, { from: 'user' });
    return code;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version are not errors; everything else commander rejects is a usage error.
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return 0;
      // `ctb help` asked for the help; `ctb` or `ctb alerts` alone did nothing but show it, for want
      // of a command: a usage error, with the help that lists the commands.
      if (err.code === 'commander.help' && err.exitCode === 0) return 0;
      if (err.code === 'commander.help') {
        const help = held;
        held = '';
        return missingCommand(program, argv, io, help);
      }
      held = '';
      const words = err.code === 'commander.unknownCommand' && argv[0] === 'help' ? argv.slice(1) : argv;
      // The whole tree is loaded only for a word nothing near among the program's commands: an error's path.
      const problem = await withDeeperSuggestion(program, words, describeUsageError(program, words, err), async () => {
        const { fullProgram } = await import('./completion.js');
        return fullProgram(io, cliCommands);
      });
      reportUsageError(io, problem, wantsJson(argv), helpHintFor(program, words, problem));
      return 2;
    }
    throw err;
  } finally {
    if (held) io.stderr.write(held);
  }
}

/** `ctb` or `ctb alerts` with no command after it: its help (already held for stderr), then the error. */
function missingCommand(program: Command, argv: string[], io: CliIo, help: string): 2 {
  const { command } = commandAt(program, argv);
  const names = command.commands.map((c) => c.name()).filter((n) => n !== 'help');
  // The program's commands are too many for one line: the help above lists them.
  const message = command === program ? 'ctb needs a command (the commands are listed above)' : `${commandPath(command)} needs a command: one of ${names.join(', ')}`;
  const problem = usageProblem('commander.missingCommand', message, `one of: ${names.join(', ')}`);
  // The help first, the error last: the line that says what went wrong is the one left on screen.
  io.stderr.write(help);
  reportUsageError(io, problem, wantsJson(argv));
  return 2;
}
