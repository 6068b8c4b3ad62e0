// Owns the one way to name a time window on the command line: `--period <p>` or a positional
// `[period]` (`ctb stats 7d`, as `/stats 7d` in Slack). Older names of the same option (`--since`,
// `--window`) still work, hidden from help, and say on stderr that they are deprecated.
import { Option, type Command } from 'commander';
import { AppError } from '../errors.js';
import type { CliIo } from './io.js';
import { printError } from './with-context.js';

export interface PeriodOptionSpec {
  /** What a period is for this command, for the help text: "24h, 7d, 30d or all". */
  describe: string;
  /** Old option names kept as hidden aliases, without dashes. */
  deprecated?: string[];
}

/** Adds `[period]` and `--period <period>` (and the hidden old names) to `command`. */
export function addPeriod(command: Command, spec: PeriodOptionSpec): Command {
  command.argument('[period]', `the time window: ${spec.describe} (same as --period)`);
  command.option('--period <period>', `the time window: ${spec.describe}`);
  for (const name of spec.deprecated ?? []) command.addOption(new Option(`--${name} <period>`, `deprecated: use --period`).hideHelp());
  return command;
}

/**
 * The period the line asked for, or undefined. Refuses two different periods (a positional and an
 * option, or an option and an old alias) with a usage error; warns once for an old name.
 */
export function readPeriod(io: CliIo, commandName: string, positional: string | undefined, opts: Record<string, unknown>, spec: PeriodOptionSpec): string | undefined {
  const given: Array<{ how: string; value: string }> = [];
  if (positional !== undefined) given.push({ how: `the positional period "${positional}"`, value: positional });
  if (typeof opts.period === 'string') given.push({ how: `--period ${opts.period}`, value: opts.period });
  for (const name of spec.deprecated ?? []) {
    const value = opts[name];
    if (typeof value !== 'string') continue;
    io.stderr.write(`warning: --${name} is deprecated and will be removed; use --period ${value} (or: ctb ${commandName} ${value})\n`);
    given.push({ how: `--${name} ${value}`, value });
  }
  const distinct = new Set(given.map((g) => g.value.trim().toLowerCase()));
  if (distinct.size > 1) {
    throw new AppError('usage', 'period_twice', `two different periods: ${given.map((g) => g.how).join(' and ')}.`, {
      hint: `Give one: ctb ${commandName} <period> or --period <period>.`,
    });
  }
  return given[0]?.value;
}

/** readPeriod, with a refusal printed (text, or JSON with --json) as exit code 2 instead of thrown. */
export function periodOrExit(io: CliIo, commandName: string, positional: string | undefined, opts: Record<string, unknown>, spec: PeriodOptionSpec): { period: string | undefined } | number {
  try {
    return { period: readPeriod(io, commandName, positional, opts, spec) };
  } catch (err) {
    return printError(io, err, undefined, opts.json === true);
  }
}
