// Owns the `ctb` command line: one subcommand per operator command (commander), --json for
// machine output, exit codes 0 ok / 1 check failed / 2 usage or config error.
import { Command, CommanderError } from 'commander';
import type { CliIo } from './io.js';
import { cliCommands } from './commands/index.js';

export interface CliRegistration {
  /** Adds its subcommand(s) to the program; the action stores the exit code through setExit. */
  register(program: Command, io: CliIo, setExit: (code: number) => void): void;
}

export function buildProgram(io: CliIo, setExit: (code: number) => void): Command {
  const program = new Command('ctb')
    .description('crypto-trading-bot: Kraken trading engine (paper by default) — operator commands')
    .showHelpAfterError('(run ctb --help for the commands and their options)')
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    })
    .exitOverride();
  for (const registration of cliCommands) registration.register(program, io, setExit);
  return program;
}

export async function runCli(argv: string[], io: CliIo): Promise<number> {
  let code = 0;
  const program = buildProgram(io, (c) => {
    code = c;
  });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version are not errors; everything else commander rejects is a usage error.
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0;
      return 2;
    }
    throw err;
  }
}
