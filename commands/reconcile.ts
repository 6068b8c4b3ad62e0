// `reconcile`: where reconciliation with Kraken stands — blocked or not, each order or fill the engine
// cannot explain with what to do about it, how far it has reconciled (from the database without a key;
// with one, a blocked reconciliation is run again first) — then the ledger against Kraken's trade history and balances: matched / mismatched /
// missing_on_exchange / legacy_unmatched / recent unmatched, and balance diffs (read-only calls, with
// the key). Writes the JSON report to REPORTS_DIR. Not ok while blocked or when anything but legacy
// trades is unmatched. The transport may pass a progress callback (the CLI's progress bar).
import { z } from 'zod';
import { readOnlyExchange } from '../src/exchange/read-only.js';
import type { FetchProgress } from '../src/services/reconcile/fetch-exchange-trades.js';
import { reconcile, type ReconcileReport } from '../src/services/reconcile/reconcile.js';
import { runReconciliation } from '../src/services/reconcile/start/run.js';
import type { ReconciliationStanding } from '../src/domain/reconciliation-standing.js';
import { readReconciliationStanding } from '../src/services/reconcile/start/state.js';
import { defineCommand } from './define.js';

export const reconcileArgs = z.object({}).strict();

export type ReconcileCommandResult =
  | (ReconcileReport & { start: ReconciliationStanding; ledgerSkipped: null })
  | { kind: 'reconcile'; ok: boolean; start: ReconciliationStanding; ledgerSkipped: string };

export const NO_KEY_FOR_LEDGER = "KRAKEN_API_KEY and KRAKEN_API_SECRET are not set. Comparing the ledger with Kraken's trade history needs a key with Query rights (the reconciliation standing above comes from the database).";

export function makeReconcileCommand(opts: { onProgress?: (p: FetchProgress) => void } = {}) {
  return defineCommand<typeof reconcileArgs, ReconcileCommandResult>({
    name: 'reconcile',
    summary: 'where reconciliation with Kraken stands, then the ledger against Kraken trade history and balances',
    role: 'reader',
    args: reconcileArgs,
    async run(ctx) {
      let start = await readReconciliationStanding(ctx);
      if (!ctx.exchanges.hasKrakenKeys()) return { kind: 'reconcile', ok: false, start, ledgerSkipped: NO_KEY_FOR_LEDGER };
      if (start.blocked) {
        // An operator looking again with the key: reconcile now — what was resolved on Kraken or by hand
        // since lifts the block (and its halt); what remains is listed as Kraken shows it now.
        await runReconciliation(ctx, { cause: 'operator', exchange: readOnlyExchange(ctx.exchanges.kraken()) }).catch(() => undefined);
        start = await readReconciliationStanding(ctx);
      }
      const report = await reconcile(ctx, readOnlyExchange(ctx.exchanges.kraken()), { writeReport: true, ...(opts.onProgress ? { onProgress: opts.onProgress } : {}) });
      return { ...report, ok: report.ok && !start.blocked, start, ledgerSkipped: null };
    },
  });
}
