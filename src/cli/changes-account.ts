// Owns which command lines change the account or may arm live trading (sell, cancel on Kraken, ask to
// go live): marked where each is registered, from the same fact that makes it ask for a confirmation
// (`--yes`, a checklist item's `confirm`) or be refused in the terminal. A guess at a mistyped word
// never offers one: a person who typed `ctb positions` to see them must not be handed the line that sells them.
import type { Command } from 'commander';

/** The whole command (true), or only these choices of its first argument. */
const marks = new WeakMap<Command, true | ReadonlySet<string>>();

/** Marks `command` as changing the account: all of it, or only the listed choices of its first argument. */
export function changesAccount<C extends Command>(command: C, onlyChoices?: readonly string[]): C {
  marks.set(command, onlyChoices ? new Set(onlyChoices) : true);
  return command;
}

/**
 * Whether running `command` (with `choice` as its first argument) changes the account: as marked, else
 * when it asks for a confirmation (a `--yes` option) and no mark narrows that to some choices.
 */
export function lineChangesAccount(command: Command, choice?: string): boolean {
  const mark = marks.get(command);
  if (mark === true) return true;
  if (mark) return choice !== undefined && mark.has(choice);
  return command.options.some((o) => o.long === '--yes');
}
