// Owns the reconciliation's standing as people see it (`ctb reconcile`, mode status, /healthz):
// blocked or not, the differences it found, how far it has reconciled, and what to do about each
// difference. Pure: derived from a bot_state row (services/reconcile/start/state.ts reads it).
import type { BotState } from '../db/schema/index.js';
import type { Difference } from '../services/reconcile/start/differences.js';
import type { ReconciliationDetails } from '../services/reconcile/start/run.js';

export interface ReconciliationStanding {
  /** Live trading waits until every difference is resolved (or, after a takeover, until one reconciliation passes). */
  blocked: boolean;
  /** Kraken's orders and fills up to here are explained; null before the first passing reconciliation. */
  reconciledThrough: string | null;
  /** When and why the differences were found; null when not blocked. */
  at: string | null;
  cause: string | null;
  /** Taken over from a dead engine and waiting for a first reconciliation (nothing compared yet). */
  pending: boolean;
  takenOverFrom: string | null;
  differences: Difference[];
}

export function standingOf(state: Pick<BotState, 'reconciliationBlocked' | 'reconciledThrough' | 'reconciliationDetails'>): ReconciliationStanding {
  const d = (state.reconciliationDetails ?? null) as ReconciliationDetails | null;
  return {
    blocked: state.reconciliationBlocked,
    reconciledThrough: state.reconciledThrough?.toISOString() ?? null,
    at: state.reconciliationBlocked ? (d?.at ?? null) : null,
    cause: state.reconciliationBlocked ? (d?.cause ?? null) : null,
    pending: state.reconciliationBlocked && d?.pending === true,
    takenOverFrom: state.reconciliationBlocked ? (d?.takenOverFrom ?? null) : null,
    differences: state.reconciliationBlocked ? (d?.differences ?? []) : [],
  };
}

/** What an operator can do about one difference: adopt only what can be adopted. */
export function remedyFor(d: Pick<Difference, 'kind' | 'id' | 'clientOrderId'>): string {
  switch (d.kind) {
    case 'unknown_order':
      // The bot follows an order by its client order id: one without cannot be adopted (adopt.ts).
      return d.clientOrderId
        ? `ctb reconcile adopt ${d.id}  |  ctb reconcile cancel ${d.id}`
        : `ctb reconcile cancel ${d.id}  (adopt is not possible: the order has no client order id, and the bot follows its orders by client order id)`;
    case 'order_closed_in_ledger':
      return `ctb reconcile adopt ${d.id}  |  ctb reconcile cancel ${d.id}`;
    case 'unknown_fill':
    case 'unrecorded_fill':
      return `ctb reconcile adopt ${d.id}`;
    default:
      return "correct the ledger by hand after checking Kraken's trade history";
  }
}

/**
 * Lines for the terminal: the block and each difference with its remedy, or that nothing is blocked.
 * Not blocked is the standing the bot keeps, not a check made now: it says so and when the last one
 * passed (or that none has run), and never "OK" beside a fresh `ctb reconcile` that failed.
 */
export function describeStanding(s: ReconciliationStanding): string[] {
  const through = `reconciled through ${s.reconciledThrough ?? '(never)'}`;
  if (!s.blocked) {
    return [s.reconciledThrough
      ? `reconciliation with Kraken: not blocking live trading — the last reconciliation the bot ran passed, through ${s.reconciledThrough}`
      : 'reconciliation with Kraken: not blocking live trading — none has run yet (the bot runs one before live trading starts)'];
  }
  if (s.pending) {
    return [`reconciliation with Kraken: BLOCKED — the engine was taken over from ${s.takenOverFrom ?? 'a dead engine'} at ${s.at}; halted until a reconciliation with Kraken passes (none has yet) — ${through}`];
  }
  const lines = [`reconciliation with Kraken: BLOCKED since ${s.at} (${s.cause}) — ${s.differences.length} difference(s) the bot cannot explain; no strategy runs until each is resolved — ${through}`];
  for (const d of s.differences) lines.push(`  ${d.kind} ${d.id}: ${d.summary}`, `      → ${remedyFor(d)}`);
  return lines;
}
