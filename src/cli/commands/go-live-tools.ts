// `ctb verify-credentials`, `ctb reconcile` (progress bar on a terminal), `ctb audit-roi`: the
// audit's parts that an operator runs alone. Each prints text or --json; exit 1 when not ok.
import { SingleBar, Presets } from 'cli-progress';
import { auditRoiCommand } from '../../../commands/audit-roi.js';
import { makeReconcileCommand } from '../../../commands/reconcile.js';
import { verifyCredentialsCommand } from '../../../commands/verify-credentials.js';
import type { FetchProgress } from '../../services/reconcile/fetch-exchange-trades.js';
import { renderAuditTable } from '../render/audit-table.js';
import { renderReconcile } from '../render/reconcile.js';
import { renderRoi } from '../render/roi.js';
import type { CliIo } from '../io.js';
import type { CliRegistration } from '../program.js';
import { runCliCommand } from '../with-context.js';

/** A progress bar on stderr when it is a terminal; nothing otherwise (pipes, --json, CI). */
function progressBar(io: CliIo, json: boolean): { onProgress?: (p: FetchProgress) => void; stop(): void } {
  const stream = io.stderr as NodeJS.WriteStream;
  if (json || !stream.isTTY) return { stop() {} };
  const bar = new SingleBar({ stream, format: 'Kraken trade history [{bar}] {value}/{total} trades · {pages} page(s)', hideCursor: true }, Presets.shades_classic);
  let started = false;
  return {
    onProgress(p) {
      const total = p.total ?? p.fetched;
      if (!started) {
        bar.start(Math.max(total, 1), p.fetched, { pages: p.pages });
        started = true;
      } else {
        bar.setTotal(Math.max(total, 1));
        bar.update(p.fetched, { pages: p.pages });
      }
    },
    stop() {
      if (started) bar.stop();
    },
  };
}

export const goLiveToolsCli: CliRegistration = {
  register(program, io, setExit) {
    program
      .command('verify-credentials')
      .description('check the Kraken key: stored safely, authenticates, can trade, cannot withdraw')
      .option('--json', 'print the report as JSON (docs/audit-json.md)', false)
      .action(async (opts: { json: boolean }) => {
        setExit(await runCliCommand(io, verifyCredentialsCommand, {}, { json: opts.json, render: (r) => renderAuditTable(r) }));
      });
    program
      .command('reconcile')
      .description('reconcile the ledger with Kraken trade history and balances (JSON report in REPORTS_DIR)')
      .option('--json', 'print the report as JSON', false)
      .action(async (opts: { json: boolean }) => {
        const bar = progressBar(io, opts.json);
        try {
          const command = makeReconcileCommand(bar.onProgress ? { onProgress: bar.onProgress } : {});
          setExit(await runCliCommand(io, command, {}, { json: opts.json, render: renderReconcile }));
        } finally {
          bar.stop();
        }
      });
    program
      .command('audit-roi')
      .description('compare ROI from the ledger with equity snapshots and Kraken balances')
      .option('--json', 'print the report as JSON', false)
      .action(async (opts: { json: boolean }) => {
        setExit(await runCliCommand(io, auditRoiCommand, {}, { json: opts.json, render: renderRoi }));
      });
  },
};
