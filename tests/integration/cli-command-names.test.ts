// A command's name is what its errors call it ("Bad arguments for incident done") and what the trail
// records: for every `ctb` subcommand it must be the words typed, never an internal spelling such as
// `incident-done`. Each subcommand is run with a command runner of the test's own (CliIo.commandRunner:
// no database), and the name of the command it hands over is compared with the words that reached it.
import type { Command as Commander } from 'commander';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { cliCommands } from '../../src/cli/commands/index.js';
import { runCli } from '../../src/cli/program.js';
import type { CliCommandRunner } from '../../src/cli/io.js';
import { recordingIo } from '../support/cli-io.js';

/** Subcommands that run no operator command (`runbook docs` writes docs/), or act before they would (the kill cancels at once). */
const RUN_NO_OPERATOR_COMMAND = new Set(['start', 'migrate', 'simulate-kraken', 'simulate-slack', 'completion', 'version', 'kill', 'runbook docs']);

/**
 * Where the name is the leading words only: a parent's default subcommand (`ctb incident` is
 * `ctb incident show`), and a runbook's topic, which is the runbook command's argument.
 */
const SHORTER: Record<string, string> = {
  'incident show': 'incident', 'backup create': 'backup', 'runbook go-live': 'runbook', 'runbook incident': 'runbook',
};

/** Operands for a subcommand whose arguments are optional only because an option replaces them (`override --clear`). */
const OPERANDS: Record<string, string[]> = { 'oncall override': ['1', '1'] };

function leaves(command: Commander, path: string[] = []): Array<{ path: string[]; command: Commander }> {
  if (command.commands.length === 0) return [{ path, command }];
  return command.commands.flatMap((c) => leaves(c, [...path, c.name()]));
}

describe('operator command names', () => {
  it('are the words typed at the terminal', async () => {
    const program = new Command('ctb');
    const io = recordingIo({});
    const loaded = new Set<unknown>();
    for (const entry of cliCommands) {
      const registration = await entry.load();
      if (loaded.has(registration)) continue;
      loaded.add(registration);
      registration.register(program, io, () => {});
    }
    const checked: string[] = [];
    const wrong: string[] = [];
    for (const leaf of leaves(program)) {
      const typed = leaf.path.join(' ');
      if (RUN_NO_OPERATOR_COMMAND.has(leaf.path[0]!) || RUN_NO_OPERATOR_COMMAND.has(typed)) continue;
      const operands = OPERANDS[typed] ?? leaf.command.registeredArguments.filter((a) => a.required).map(() => '1');
      const handed: { name: string | null } = { name: null };
      // Subcommands that open the context themselves (stats, reconcile, self-heal) run nothing here.
      const commandRunner: CliCommandRunner = { run: async (command) => { handed.name = command.name; return 0; }, openContext: async () => 0 };
      await runCli([...leaf.path, ...operands], { ...recordingIo({}), commandRunner });
      if (handed.name === null) continue;
      checked.push(typed);
      if (handed.name !== (SHORTER[typed] ?? typed)) wrong.push(`ctb ${typed} runs "${handed.name}"`);
    }
    expect(checked).toEqual(expect.arrayContaining(['incident done', 'backup verify', 'alerts ack', 'oncall override', 'mode status', 'trades']));
    expect(wrong).toEqual([]);
  }, 120_000);
});
