// `ctb verify-credentials`, `ctb reconcile` (progress bar on a terminal), `ctb audit-roi`: the
// audit's parts that an operator runs alone. Each prints text or --json; exit 1 when not ok.
import { SingleBar, Presets } from 'cli-progress';
import { auditRoiCommand } from '../../../commands/audit-roi.js';
import { makeReconcileCommand, NO_KEY_EXPECTED, NO_KEY_FOR_LEDGER_JSON } from '../../../commands/reconcile.js';
import { makeReconcileAdoptCommand, makeReconcileCancelCommand } from '../../../commands/reconcile-resolve.js';
import { runCommand } from '../../../commands/run-command.js';
import { verifyCredentialsCommand } from '../../../commands/verify-credentials.js';
import type { FetchProgress } from '../../services/reconcile/fetch-exchange-trades.js';
import { renderAuditTable } from '../render/audit-table.js';
import { styleFor } from '../render/style.js';
import { renderReconcileCommand, renderResolve } from '../render/reconcile.js';
import { renderRoi } from '../render/roi.js';
import { changesAccount } from '../changes-account.js';
import type { CliIo } from '../io.js';
import type { CliRegistration } from '../program.js';
import { usageProblem } from '../usage-errors.js';
import { cliActor, printError, runCliCommand, withCliContext } from '../with-context.js';

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
        setExit(await runCliCommand(io, verifyCredentialsCommand, {}, { json: opts.json, render: (r) => renderAuditTable(r, { style: styleFor(io), width: io.stdout.columns }), progress: 'checking the Kraken key' }));
      });
    const reconcileCmd = program
      .command('reconcile')
      .description('where reconciliation with Kraken stands (what blocks trading, and what to do), then the ledger against Kraken trade history and balances (JSON report in REPORTS_DIR)')
      .option('--json', 'print the report as JSON', false)
      .action(async (opts: { json: boolean }) => {
        const bar = progressBar(io, opts.json);
        try {
          const command = makeReconcileCommand(bar.onProgress ? { onProgress: bar.onProgress } : {});
          setExit(await withCliContext(io, async (ctx, config) => {
            try {
              const result = await runCommand(command, ctx, cliActor(), {});
              bar.stop();
              if (result.ledgerSkipped !== null) {
                // A configuration error (no key): with --json, the one error object every command prints
                // for it, carrying the standing read from the database beside it.
                io.stdout.write(opts.json
                  ? `${JSON.stringify({ ...usageProblem('kraken_keys_missing', NO_KEY_FOR_LEDGER_JSON, NO_KEY_EXPECTED), exitCode: 2, start: result.start }, null, 2)}\n`
                  : `${renderReconcileCommand(result)}\n`);
                io.stderr.write(`error: ${result.ledgerSkipped}\n`);
                return 2;
              }
              io.stdout.write(opts.json ? `${JSON.stringify(result, null, 2)}\n` : `${renderReconcileCommand(result)}\n`);
              return result.ok ? 0 : 1;
            } catch (err) {
              return printError(io, err, config, opts.json);
            }
          }, opts.json));
        } finally {
          bar.stop();
        }
      });
    // The parent's --json is read from anywhere on the line (commander), so the subcommands read it from there.
    reconcileCmd
      .command('adopt <txid>')
      .description("record an order or fill on Kraken that reconciliation cannot explain as the bot's own (refused when that is not safe)")
      .action(async (txid: string, _opts: unknown, cmd: { optsWithGlobals(): { json?: boolean } }) => {
        setExit(await runCliCommand(io, makeReconcileAdoptCommand(), { txid }, { json: Boolean(cmd.optsWithGlobals().json), render: renderResolve }));
      });
    changesAccount(reconcileCmd
      .command('cancel <txid>'))
      .description('cancel an order on Kraken that reconciliation cannot explain, and confirm it is gone')
      .action(async (txid: string, _opts: unknown, cmd: { optsWithGlobals(): { json?: boolean } }) => {
        setExit(await runCliCommand(io, makeReconcileCancelCommand(), { txid }, { json: Boolean(cmd.optsWithGlobals().json), render: renderResolve }));
      });
    program
      .command('audit-roi')
      .description('compare ROI from the ledger with equity snapshots and Kraken balances')
      .option('--json', 'print the report as JSON', false)
      .action(async (opts: { json: boolean }) => {
        setExit(await runCliCommand(io, auditRoiCommand, {}, { json: opts.json, render: renderRoi, progress: 'comparing ROI with snapshots and Kraken' }));
      });
  },
};
