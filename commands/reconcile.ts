// `reconcile`: the ledger against Kraken's trade history and balances; classes matched /
// mismatched / missing_on_exchange / legacy_unmatched / recent unmatched, and balance diffs. Only
// read-only exchange calls. Writes the JSON report to REPORTS_DIR. Not ok when anything but
// legacy trades is unmatched. The transport may pass a progress callback (the CLI's progress bar).
import { z } from 'zod';
import { readOnlyExchange } from '../src/exchange/read-only.js';
import type { FetchProgress } from '../src/services/reconcile/fetch-exchange-trades.js';
import { reconcile, type ReconcileReport } from '../src/services/reconcile/reconcile.js';
import { defineCommand } from './define.js';

export const reconcileArgs = z.object({}).strict();

export function makeReconcileCommand(opts: { onProgress?: (p: FetchProgress) => void } = {}) {
  return defineCommand<typeof reconcileArgs, ReconcileReport>({
    name: 'reconcile',
    summary: 'reconcile the ledger with Kraken trade history and balances',
    role: 'reader',
    args: reconcileArgs,
    run: (ctx) => reconcile(ctx, readOnlyExchange(ctx.exchanges.kraken()), { writeReport: true, ...(opts.onProgress ? { onProgress: opts.onProgress } : {}) }),
  });
}

