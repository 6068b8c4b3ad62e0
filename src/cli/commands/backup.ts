// `ctb backup [create] [--reason …]` and `ctb backup verify <dir>`.
import { join } from 'node:path';
import { backupCommand, type BackupResult } from '../../../commands/backup.js';
import { backupVerifyCommand, type BackupVerifyResult } from '../../../commands/backup-verify.js';
import type { CliRegistration } from '../program.js';
import { runCliCommand } from '../with-context.js';

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MiB`;
}

export function renderBackup(r: BackupResult): string {
  const lines = [
    `backup written: ${r.path}`,
    `  reason ${r.reason}, ${r.files} files, ${formatBytes(r.bytes)}, manifest SHA-256 ${r.manifestSha256}`,
    `  tables: ${r.tables.map((t) => `${t.table} ${t.rows}`).join(', ')}`,
  ];
  lines.push(r.pruned.length > 0 ? `  pruned by BACKUP_RETENTION: ${r.pruned.join(', ')}` : '  nothing pruned');
  lines.push(`verify it any time with: ctb backup verify ${r.path}`);
  return lines.join('\n');
}

export function renderBackupVerify(r: BackupVerifyResult): string {
  const recorded =
    r.recorded === 'matches' ? 'manifest matches the checksum recorded when it was taken'
    : r.recorded === 'differs' ? 'manifest does NOT match the checksum recorded when it was taken'
    : 'no record of this snapshot in this database (taken elsewhere?)';
  if (r.ok) return `OK ${r.dir}: ${r.checked} files match the manifest; ${recorded}`;
  return [`FAILED ${r.dir}: ${r.problems.length} problem(s)`, ...r.problems.map((p) => `  ${p.kind.padEnd(8)} ${p.detail}`), `  (${recorded})`].join('\n');
}

export const backupCli: CliRegistration = {
  register(program, io, setExit) {
    const backup = program.command('backup').description('snapshot configuration, logs, reports and the ledger; verify a snapshot');
    backup
      .command('create', { isDefault: true })
      .description('take a snapshot into BACKUP_DIR/<timestamp>/ (secrets redacted) and prune by BACKUP_RETENTION')
      .option('--reason <text>', 'why the snapshot is taken (stored with it)', 'manual')
      .option('--json', 'machine-readable output')
      .action(async (opts: { reason: string; json?: boolean }) => {
        setExit(
          await runCliCommand(io, backupCommand, { reason: opts.reason, envFile: join(io.cwd, '.env') }, { json: !!opts.json, render: renderBackup, progress: 'taking the snapshot' }),
        );
      });
    backup
      .command('verify')
      .description('check a snapshot against its manifest: exit 1 when a file is missing, altered or added')
      .argument('<dir>', 'the snapshot directory, e.g. backups/20260105T120000Z')
      .option('--json', 'machine-readable output')
      .action(async (dir: string, opts: { json?: boolean }) => {
        const absolute = dir.startsWith('/') ? dir : join(io.cwd, dir);
        setExit(await runCliCommand(io, backupVerifyCommand, { dir: absolute }, { json: !!opts.json, render: renderBackupVerify, progress: 'checking the snapshot' }));
      });
  },
};
