// `reconcile`: where reconciliation with Kraken stands — blocked or not, each order or fill the engine
// cannot explain with what to do about it, how far it has reconciled (from the database without a key;
// with one, a blocked reconciliation is run again first) — then, with the key, Kraken's open orders now
// (those the bot cannot explain, whether or not the engine has seen them yet) and the ledger against
// Kraken's trade history and balances: matched / mismatched / missing_on_exchange / legacy_unmatched /
// recent unmatched, and balance diffs (read-only calls). Writes the JSON report to REPORTS_DIR. Not ok
// while blocked, with an open order it cannot explain, or when anything but legacy trades is unmatched.
// The transport may pass a progress callback (the CLI's progress bar).
import { z } from 'zod';
import { withOrderLock } from '../src/engine/order-lock.js';
import { AppError } from '../src/errors.js';
import { KRAKEN_UNREACHABLE_CHECK, krakenUnreachable } from '../src/exchange/errors.js';
import { readOnlyExchange } from '../src/exchange/read-only.js';
import type { OrderState } from '../src/exchange/types.js';
import type { FetchProgress } from '../src/services/reconcile/fetch-exchange-trades.js';
import { reconcile, type ReconcileReport } from '../src/services/reconcile/reconcile.js';
import { runReconciliation } from '../src/services/reconcile/start/run.js';
import type { ReconciliationStanding } from '../src/domain/reconciliation-standing.js';
import type { Difference } from '../src/services/reconcile/start/differences.js';
import { unexplainedOpenOrders } from '../src/services/reconcile/start/open-orders.js';
import { readReconciliationStanding } from '../src/services/reconcile/start/state.js';
import { defineCommand, type CommandContext } from './define.js';
import { krakenVenueName } from '../src/domain/venue-name.js';

export const reconcileArgs = z.object({}).strict();

/** Kraken's open orders as `ctb reconcile` found them now, and those the bot cannot explain. */
export interface OpenOrdersCheck {
  /** Whose open orders: Kraken, or the server KRAKEN_API_URL points at (a rehearsal's simulator), as outputs name it. */
  venue: string;
  onKraken: number;
  unexplained: Difference[];
}

export type ReconcileCommandResult =
  | (ReconcileReport & { start: ReconciliationStanding; openOrders: OpenOrdersCheck; ledgerSkipped: null })
  | { kind: 'reconcile'; ok: boolean; start: ReconciliationStanding; ledgerSkipped: string };

const NO_KEY = "KRAKEN_API_KEY and KRAKEN_API_SECRET are not set. Comparing the ledger with Kraken's trade history needs a key with Query rights";
export const NO_KEY_FOR_LEDGER = `${NO_KEY} (the reconciliation standing above comes from the database).`;
/** The same for --json, where the standing is the error object's `start`. */
export const NO_KEY_FOR_LEDGER_JSON = `${NO_KEY} (the reconciliation standing in "start" comes from the database).`;
/** What would let the ledger comparison run (the `expected` of --json's error object). */
export const NO_KEY_EXPECTED = 'KRAKEN_API_KEY and KRAKEN_API_SECRET set (environment or .env, mode 0600) to a Kraken key with Query rights';

/** What an operator checks when no call reached Kraken (the audit says the same). */
const KRAKEN_UNREACHABLE_HINT = `${KRAKEN_UNREACHABLE_CHECK}, then run ctb reconcile again.`;

/**
 * A Kraken that does not answer at all (refused, not resolving, timed out), said as such: where it
 * was asked, why no answer came, that nothing was compared, and what to check. Any other error as it is.
 */
function unreachableKraken(err: unknown, url: string): unknown {
  const unreachable = krakenUnreachable(err, url);
  if (unreachable === null) return err;
  return new AppError('retryable', 'kraken_unreachable', `${unreachable}: nothing was compared with Kraken.`, { hint: KRAKEN_UNREACHABLE_HINT, cause: err });
}

async function checkOpenOrders(ctx: Parameters<typeof unexplainedOpenOrders>[0] & { config: { KRAKEN_API_URL: string | undefined } }, listed: OrderState[]): Promise<OpenOrdersCheck> {
  return { venue: krakenVenueName(ctx.config.KRAKEN_API_URL), onKraken: listed.length, unexplained: await unexplainedOpenOrders(ctx, listed) };
}

/** sleep: how the trade-history fetch waits before a retry (tests pass one that records the waits). */
export function makeReconcileCommand(opts: { onProgress?: (p: FetchProgress) => void; sleep?: (ms: number) => Promise<void> } = {}) {
  return defineCommand<typeof reconcileArgs, ReconcileCommandResult>({
    name: 'reconcile',
    summary: 'where reconciliation with Kraken stands, then the ledger against Kraken trade history and balances',
    role: 'reader',
    args: reconcileArgs,
    async run(ctx) {
      try {
        return await reconcileWithKraken(ctx);
      } catch (err) {
        throw unreachableKraken(err, ctx.config.KRAKEN_API_URL ?? 'https://api.kraken.com');
      }
    },
  });

  async function reconcileWithKraken(ctx: CommandContext): Promise<ReconcileCommandResult> {
    let start = await readReconciliationStanding(ctx);
    if (!ctx.exchanges.hasKrakenKeys()) return { kind: 'reconcile', ok: false, start, ledgerSkipped: NO_KEY_FOR_LEDGER };
    const exchange = readOnlyExchange(ctx.exchanges.kraken());
    let openOrders: OpenOrdersCheck | undefined;
    if (start.blocked) {
      // An operator looking again with the key: reconcile now — what was resolved on Kraken or by hand
      // since lifts the block (and its halt); what remains is listed as Kraken shows it now.
      // Under the order lock, as adopt and cancel run it (across processes on PostgreSQL); the operator named where its alert is resolved.
      // The open orders listed below are the ones it compared, read once under that lock: a second
      // OpenOrders would only add to the key's rate counter.
      await withOrderLock(ctx, async () => {
        const run = await runReconciliation(ctx, { cause: 'operator', exchange, by: ctx.actor.id });
        openOrders = await checkOpenOrders(ctx, run.observed.openOrders);
      }).catch(() => undefined);
      start = await readReconciliationStanding(ctx);
    }
    openOrders ??= await checkOpenOrders(ctx, await exchange.fetchOpenOrders());
    // As in the audit: a Kraken that refuses the connection or does not resolve is asked once more,
    // not waited out for half a minute of backoff (the engine's reconciliation waits it out).
    const report = await reconcile(ctx, exchange, {
      writeReport: true, unreachableRetries: 1, ...(opts.onProgress ? { onProgress: opts.onProgress } : {}), ...(opts.sleep ? { sleep: opts.sleep } : {}),
    });
    const n = openOrders.unexplained.length;
    // The verdict covers the open orders too: "RECONCILE OK" above an order nobody can explain would be a claim nobody checked.
    const summaryLine = n === 0 ? report.summaryLine : `RECONCILE FAILED — ${n} open order(s) on ${openOrders.venue} the bot cannot explain; ledger: ${report.summaryLine.replace(/^RECONCILE \w+ — /, '')}`;
    return { ...report, ok: report.ok && !start.blocked && n === 0, summaryLine, start, openOrders, ledgerSkipped: null };
  }
}
