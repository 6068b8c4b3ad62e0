// `ctb audit [--dry-run] [--json]`: the go-live audit as a table (or the stable JSON of
// docs/audit-json.md). Exit 1 when any check fails.
import { auditCommand } from '../../../commands/audit.js';
import { renderAuditTable } from '../render/audit-table.js';
import { styleFor } from '../render/style.js';
import type { CliRegistration } from '../program.js';
import { runCliCommand } from '../with-context.js';

export const auditCli: CliRegistration = {
  register(program, io, setExit) {
    program
      .command('audit')
      .description('run the go-live audit: every checklist item a program can check (exit 1 on any failure)')
      .option('--dry-run', 'make only read-only exchange calls; change nothing but the stored run record', false)
      .option('--json', 'print the report as JSON (docs/audit-json.md)', false)
      .action(async (opts: { dryRun: boolean; json: boolean }) => {
        setExit(await runCliCommand(io, auditCommand, { dryRun: opts.dryRun }, { json: opts.json, render: (r) => renderAuditTable(r, { style: styleFor(io), width: io.stdout.columns }), progress: 'running the go-live audit' }));
      });
  },
};
