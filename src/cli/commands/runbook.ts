// `ctb runbook go-live|incident [--json]` prints a runbook filled in from the running configuration;
// `ctb runbook docs [--check]` regenerates docs/*.md from the same template with placeholders
// (--check: exit 1 when the committed copies are stale).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runbookCommand, type RunbookResult } from '../../../commands/runbook.js';
import { PROJECT_ROOT } from '../../paths.js';
import { placeholderRunbookData, renderRunbook, RUNBOOK_DOCS, RUNBOOKS } from '../../domain/runbook/index.js';
import type { CliIo } from '../io.js';
import type { CliRegistration } from '../program.js';
import { runCliCommand } from '../with-context.js';

export function syncRunbookDocs(io: CliIo, root: string, check: boolean): number {
  let stale = 0;
  for (const name of RUNBOOKS) {
    const path = join(root, RUNBOOK_DOCS[name]);
    const wanted = renderRunbook(name, placeholderRunbookData());
    const current = existsSync(path) ? readFileSync(path, 'utf8') : null;
    if (current === wanted) {
      io.stdout.write(`${RUNBOOK_DOCS[name]} is up to date\n`);
      continue;
    }
    if (check) {
      stale += 1;
      io.stderr.write(`${RUNBOOK_DOCS[name]} differs from the runbook template: run ctb runbook docs\n`);
    } else {
      writeFileSync(path, wanted);
      io.stdout.write(`${RUNBOOK_DOCS[name]} regenerated\n`);
    }
  }
  return stale > 0 ? 1 : 0;
}

export const runbookCli: CliRegistration = {
  register(program, io, setExit) {
    const runbook = program.command('runbook').description('runbooks filled in from the running configuration (go-live, incident)');
    for (const name of RUNBOOKS) {
      runbook
        .command(name)
        .description(`print the ${name} runbook with this installation's people, channels, SLAs, thresholds and failing checks`)
        .option('--json', 'machine-readable output (the text and the facts it was filled in with)')
        .action(async (opts: { json?: boolean }) => {
          setExit(await runCliCommand(io, runbookCommand, { name }, { json: !!opts.json, render: (r: RunbookResult) => r.text }));
        });
    }
    runbook
      .command('docs')
      .description(`regenerate ${Object.values(RUNBOOK_DOCS).join(' and ')} from the runbook template (with placeholders)`)
      .option('--check', 'only compare: exit 1 when a committed copy is stale')
      .action((opts: { check?: boolean }) => {
        setExit(syncRunbookDocs(io, PROJECT_ROOT, !!opts.check));
      });
  },
};
