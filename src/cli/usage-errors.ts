// Owns how a usage error commander raised reaches the person (or the script) that typed it:
// a suggestion for a mistyped subcommand or choice, what was expected, and with --json one JSON
// object on stdout instead of text.
import type { Command, CommanderError } from 'commander';
import { parseDuration } from '../config/duration.js';
import { didYouMean, meantOneOf, nearestHarmlessWords, nearestWords, partialMatches, similarWords } from '../suggest-similar.js';
import { lineChangesAccount } from './changes-account.js';
import type { CliIo } from './io.js';
import { notRunText, strayOption } from './unknown-option.js';

export interface UsageProblem {
  ok: false;
  error: string;
  code: string;
  expected: string;
  suggestion: string[];
  exitCode: 2;
}

/** True when the line asks for JSON output (a --json before any `--`). */
export function wantsJson(argv: string[]): boolean {
  const end = argv.indexOf('--');
  return (end === -1 ? argv : argv.slice(0, end)).includes('--json');
}

/** The deepest command the words name, and the words after it that are not options. */
export function commandAt(program: Command, argv: string[]): { command: Command; operands: string[] } {
  let command = program;
  const operands: string[] = [];
  for (let i = 0; i < argv.length; i += 1) {
    const word = argv[i]!;
    if (word === '--') break;
    if (word.startsWith('-') && word.length > 1) {
      const flag = word.split('=')[0]!;
      let takesValue = false;
      for (let c: Command | null = command; c; c = c.parent) {
        const option = c.options.find((o) => o.long === flag || o.short === flag);
        if (option) {
          takesValue = option.required || option.optional;
          break;
        }
      }
      if (takesValue && !word.includes('=')) i += 1;
      continue;
    }
    const sub = operands.length === 0 ? command.commands.find((c) => c.name() === word || c.aliases().includes(word)) : undefined;
    if (sub) command = sub;
    else operands.push(word);
  }
  return { command, operands };
}

/** The words that name `command` from the program down (`ctb oncall override`). */
export function commandPath(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

const visibleSubcommands = (command: Command) => command.createHelp().visibleCommands(command).map((c) => c.name()).filter((n) => n !== 'help');
const visibleLongOptions = (command: Command) => command.createHelp().visibleOptions(command).map((o) => o.long).filter((l): l is string => Boolean(l));

/** Slack command names an operator may type at the terminal, and the ctb commands that do the same. */
const SLACK_ONLY: Record<string, { commands: string[]; text: string }> = {
  golive: {
    commands: ['audit', 'mode', 'runbook'],
    text: '/golive is Slack\'s; in the terminal: ctb audit for /golive audit, ctb mode status for /golive status, ctb runbook go-live for /golive help',
  },
};

/** The word of an "unknown option" error when it is a duration with a minus (-2h, -30m), else undefined. */
function negativeDuration(commanderMessage: string): string | undefined {
  const word = /unknown option '(-[^']*)'/.exec(commanderMessage)?.[1];
  return word !== undefined && !word.startsWith('--') && parseDuration(word.slice(1)) !== undefined ? word : undefined;
}

function unknownCommandMessage(program: Command, command: Command, word: string, hint: string): string {
  return `unknown command '${word}'${command === program ? '' : ` for '${commandPath(command)}'`}${hint}`;
}

/** At most this many deeper commands are offered: more, and the word names nothing in particular. */
const MAX_DEEPER = 4;

/**
 * How many edits a deeper command's name may be from the word for its spelling to name it: a short word
 * is a few edits from too many names (`stop` → show, `on` → done, `clear` → create), so words under 5
 * letters name none by spelling, 5 to 7 letters within one edit, longer ones within two.
 */
function deeperSpellingReach(word: string): number | null {
  if (word.length < 5) return null;
  return word.length <= 7 ? 1 : 2;
}

/** A word names a part of a deeper command only when it is this long: shorter, it names parts of too many. */
const MIN_DEEPER_PART = 4;

/**
 * The command lines below `command` that end in a word near `word` (naming a whole part of it, else by
 * close spelling): its subcommands' subcommands at any depth, and the listed choices of each one's first
 * argument (`ctb incident notify` → ctb incident done notify_stakeholders). Its own subcommands are not
 * among them: the caller has looked there. A line that changes the account (changes-account.ts) is never
 * offered, and a word that names one gets no guess at all: `ctb positions` is not answered with the
 * line that sells them, nor with a neighbour standing in for it.
 */
export function deeperCommands(command: Command, word: string): string[] {
  const ends: Array<{ end: string; line: string; changesAccount: boolean }> = [];
  const walk = (c: Command, depth: number) => {
    for (const sub of c.createHelp().visibleCommands(c).filter((x) => x.name() !== 'help')) {
      const choices = sub.registeredArguments[0]?.argChoices ?? [];
      // A command whose first argument lists choices is named by them; alone it runs none of them.
      if (depth > 0) ends.push({ end: sub.name(), line: commandPath(sub), changesAccount: choices.length === 0 && lineChangesAccount(sub) });
      for (const choice of choices) ends.push({ end: choice, line: `${commandPath(sub)} ${choice}`, changesAccount: lineChangesAccount(sub, choice) });
      walk(sub, depth + 1);
    }
  };
  walk(command, 0);
  // A word that names a whole part of a deeper command ("notify" of notify_stakeholders) says more than
  // a spelling ("verify"): parts first, then spelling.
  const words = ends.map((e) => e.end);
  const named = word.length >= MIN_DEEPER_PART ? partialMatches(word, words).filter((w) => w.length >= MIN_DEEPER_PART) : [];
  const reach = deeperSpellingReach(word);
  const near = new Set(named.length > 0 ? named : reach === null ? [] : similarWords(word, words, reach));
  const found = ends.filter((e) => near.has(e.end));
  if (found.some((e) => e.changesAccount)) return [];
  const lines = [...new Set(found.map((e) => e.line))];
  return lines.length <= MAX_DEEPER ? lines : [];
}

/**
 * An unknown command with nothing near it where it was typed, suggested from deeper down: the whole
 * command line it may have meant. Under the program, whose commands are registered by name only
 * until one runs (program.ts), `wholeTree` gives every command with its subcommands.
 */
export async function withDeeperSuggestion(program: Command, argv: string[], problem: UsageProblem, wholeTree: () => Promise<Command>): Promise<UsageProblem> {
  if (problem.code !== 'commander.unknownCommand' || problem.suggestion.length > 0) return problem;
  const { command, operands } = commandAt(program, argv);
  const word = operands[0];
  if (word === undefined) return problem;
  let tree = command;
  try {
    if (command === program) tree = await wholeTree();
  } catch {
    return problem; // a module that cannot load leaves the error as commander's words had it
  }
  const lines = deeperCommands(tree, word);
  if (lines.length === 0) return problem;
  return { ...problem, error: unknownCommandMessage(program, command, word, meantOneOf(lines)), suggestion: lines };
}

/** What the error means, with a suggestion where one is close. */
export function describeUsageError(program: Command, argv: string[], err: CommanderError): UsageProblem {
  const { command, operands } = commandAt(program, argv);
  let message = err.message.replace(/^error: /, '');
  let expected = `${commandPath(command)} ${command.usage()}`;
  let suggestion: string[] = [];
  let code = err.code;
  const subcommands = visibleSubcommands(command);
  const typoedSubcommand = subcommands.length > 0 && operands.length > 0 && ['commander.excessArguments', 'commander.unknownOption'].includes(err.code);
  // `ctb kill --reasn "fills look wrong"`: the misspelt option is the mistake, not the word after it.
  const stray = err.code === 'commander.unknownOption' && !typoedSubcommand ? strayOption(program, argv)
    : err.code === 'commander.unknownCommand' || typoedSubcommand ? strayOption(program, argv, true) : undefined;
  if (stray !== undefined && !negativeDuration(`unknown option '${stray}'`)) {
    const options = visibleLongOptions(command);
    suggestion = stray.startsWith('--') ? similarWords(stray.slice(2), options.map((o) => o.slice(2))).map((o) => `--${o}`) : [];
    code = 'commander.unknownOption';
    message = `unknown option '${stray}'${suggestion.length > 0 ? didYouMean(stray, suggestion) : ''}.${notRunText(commandPath(command), argv, stray, suggestion.length === 1 ? suggestion[0] : undefined)}`;
    expected = options.length > 0 ? `options of ${commandPath(command)}: ${options.join(', ')}` : `${commandPath(command)} takes no options`;
  } else if (err.code === 'commander.unknownCommand' || typoedSubcommand) {
    // `ctb mode livee`: commander calls a typo after a command with an action "too many arguments"
    // (or, with --json after it, an unknown option of the parent).
    const word = operands[0] ?? '';
    // A command's name half remembered (`ctb verify`, `ctb logs`) is the nearest one when no typo is.
    // One that changes the account only for a slip of one edit, or a word naming it (`ctb kil`,
    // `ctb kill-all`): `ctb sell` is not answered with kill, which cancels and halts and sells nothing.
    suggestion = nearestWords(word, subcommands).filter((name) => {
      const sub = command.commands.find((c) => c.name() === name);
      return !sub || !lineChangesAccount(sub) || similarWords(word, [name], 1).length > 0 || partialMatches(word, [name]).length > 0;
    });
    code = 'commander.unknownCommand';
    expected = `one of: ${subcommands.join(', ')}`;
    // Under a command the few valid names fit on the line; the program's are listed on the next (helpHintFor).
    let hint = suggestion.length > 0 ? meantOneOf(suggestion) : command === program ? '' : ` (expected ${expected})`;
    const slack = command === program ? SLACK_ONLY[word] : undefined;
    if (slack) {
      suggestion = slack.commands;
      hint = ` (${slack.text})`;
    }
    message = unknownCommandMessage(program, command, word, hint);
  } else if (err.code === 'commander.excessArguments') {
    // Commander names the leaf alone ("too many arguments for 'override'"): name it as typed.
    message = message.replace(`for '${command.name()}'`, `for '${commandPath(command)}'`);
  } else if (err.code === 'commander.missingArgument') {
    // Commander names the argument alone ("missing required argument 'item'"): name the command as typed too.
    message = `${message} for '${commandPath(command)}'`;
  } else if (err.code === 'commander.invalidArgument') {
    // An option's ("option '--severity <level>' argument 'x' is invalid.") or an argument's
    // ("command-argument value 'x' is invalid for argument 'shell'.").
    const m = /(?:argument|command-argument value) '(.*?)' is invalid(?: for argument '[^']*')?\. Allowed choices are (.*)\.$/s.exec(err.message);
    if (m) {
      const choices = m[2]!.split(', ');
      // No guess that hands over a line changing the account: an argument's choice as marked, an
      // option's value when the command as a whole changes it.
      const ofArgument = message.startsWith('command-argument value');
      suggestion = nearestHarmlessWords(m[1]!, choices, (choice) => (ofArgument ? lineChangesAccount(command, choice) : lineChangesAccount(command)));
      message = `${message}${meantOneOf(suggestion)}`;
      expected = `one of: ${choices.join(', ')}`;
    }
  } else if (err.code === 'commander.unknownOption' && negativeDuration(err.message)) {
    // `ctb oncall override U1 -2h`: commander reads a leading minus as an option, but the person
    // typed a duration (a whole negative number reaches the command, which names what it expects).
    const word = negativeDuration(err.message)!;
    message = `'${word}' is not an option but a negative duration: a duration must be positive, e.g. ${word.slice(1)}`;
    code = 'commander.invalidArgument';
    expected = `a positive duration such as ${word.slice(1)}`;
    suggestion = [word.slice(1)];
  } else if (err.code === 'commander.unknownOption') {
    const m = /unknown option '([^']*)'/.exec(err.message);
    const options = visibleLongOptions(command);
    if (m) {
      suggestion = m[1]!.startsWith('--') ? similarWords(m[1]!.slice(2), options.map((o) => o.slice(2))).map((o) => `--${o}`) : [];
      message = `unknown option '${m[1]}'${suggestion.length > 0 ? didYouMean(m[1]!, suggestion) : ''}`;
    }
    expected = options.length > 0 ? `options of ${commandPath(command)}: ${options.join(', ')}` : `${commandPath(command)} takes no options`;
  }
  return { ok: false, error: message, code, expected, suggestion, exitCode: 2 };
}

/**
 * Where to read the usage of the command the words name: its own --help, or the program's. After an
 * unknown command of the program's (`ctb frobnicate`), the program's commands are named first.
 */
export function helpHintFor(program: Command, argv: string[], problem?: Pick<UsageProblem, 'code'>): string {
  const { command } = commandAt(program, argv);
  if (command !== program) return `(run ${commandPath(command)} --help for its usage and options)`;
  if (problem?.code === 'commander.unknownCommand') return `ctb's commands: ${visibleSubcommands(program).join(', ')}\n(run ctb --help for what each does)`;
  return '(run ctb --help for the commands and their options)';
}

/** Prints a usage error: the text on stderr for a person and, with --json, one JSON object on stdout. */
export function reportUsageError(io: CliIo, problem: UsageProblem, json: boolean, helpHint?: string): void {
  if (json) io.stdout.write(`${JSON.stringify(problem, null, 2)}\n`);
  io.stderr.write(`error: ${problem.error}\n${helpHint ? `${helpHint}\n` : ''}`);
}

/** A usage error a command raised (bad value, out of range) in the same shape as commander's. */
export function usageProblem(code: string, message: string, hint?: string): UsageProblem {
  const expected = hint ?? /\bexpected (.*?)(?:,? got\b|$)/s.exec(message)?.[1]?.trim() ?? '';
  return { ok: false, error: message, code, expected, suggestion: [...message.matchAll(/Did you mean (?:one of )?([^?]+)\?/g)].flatMap((m) => m[1]!.split(', ')), exitCode: 2 };
}
