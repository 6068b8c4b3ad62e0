// `ctb completion bash|zsh`: prints a shell completion script for ctb (src/cli/completion.ts).
import { Argument } from 'commander';
import { bashCompletion, completionTree, fullProgram, zshCompletion, type Registrable } from '../completion.js';
import type { CliRegistration } from '../program.js';

/** `entries`: every command's loader (commands/index.ts passes its own list: completion needs them all). */
export const completionCli = (entries: ReadonlyArray<{ load: () => Promise<Registrable> }>): CliRegistration => ({
  register(program, io, setExit) {
    program
      .command('completion')
      .description('print a shell completion script: source <(ctb completion bash), or zsh')
      .addArgument(new Argument('<shell>', 'the shell to complete in').choices(['bash', 'zsh']))
      .action(async (shell: 'bash' | 'zsh') => {
        const tree = completionTree(await fullProgram(io, entries));
        io.stdout.write(shell === 'bash' ? bashCompletion(tree) : zshCompletion(tree));
        setExit(0);
      });
  },
});
