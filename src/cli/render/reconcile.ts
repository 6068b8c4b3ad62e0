// Renders `ctb reconcile` for the terminal: the standing, Kraken's open orders the bot cannot explain,
// then the ReconcileReport — counts per class, the first few of each problem class, balance diffs, the
// report file, and the summary line.
import { canonicalDecimal } from '../../domain/decimal-text.js';
import type { OpenOrdersCheck, ReconcileCommandResult } from '../../../commands/reconcile.js';
import type { ResolveResult } from '../../../commands/reconcile-resolve.js';
import type { ReconcileReport } from '../../services/reconcile/reconcile.js';
import { describeStanding, remedyFor, type ReconciliationStanding } from '../../domain/reconciliation-standing.js';
import { upperFirst } from '../../domain/venue-name.js';

/** Amounts as people write them: the ledger's numeric(36,18) and Kraken's padded decimals trimmed. */
const num = (v: unknown) => (typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v) ? canonicalDecimal(v) : String(v));

/** `venue`: whose trades and balances the report compared (OpenOrdersCheck's venue). */
export function renderReconcile(r: ReconcileReport, venue: string): string {
  const c = r.counts;
  const lines = [
    `ledger fills ${c.ledgerFills} · exchange trades ${c.exchangeTrades} (since ${r.fetchedSince.slice(0, 10)}, ${r.fetch.pages} page(s)${r.fetch.retries ? `, ${r.fetch.retries} retried` : ''})`,
    `legacy cutoff ${r.legacyCutoff} (${r.cutoffSource.replace(/_/g, ' ')})`,
    '',
    `  matched              ${c.matched}`,
    `  mismatched           ${c.mismatched}`,
    `  missing_on_exchange  ${c.missingOnExchange}`,
    `  recent unmatched     ${c.recentUnmatched}`,
    `  legacy_unmatched     ${c.legacyUnmatched}`,
  ];
  const few = <T>(title: string, list: T[], show: (x: T) => string) => {
    if (list.length === 0) return;
    lines.push('', `${title}:`);
    for (const x of list.slice(0, 10)) lines.push(`  ${show(x)}`);
    if (list.length > 10) lines.push(`  … ${list.length - 10} more in the report file`);
  };
  few('mismatched', r.mismatched, (m) => `fill ${m.ledger.fillId} / trade ${m.exchange.tradeId}: ${m.fields.map((f) => `${f} ${num(m.ledger[f])} vs ${num(m.exchange[f])}`).join(', ')}`);
  few('missing on exchange', r.missingOnExchange, (f) => `fill ${f.fillId} ${f.side} ${num(f.quantity)} ${f.symbol} @ ${num(f.price)} (${f.at}) trade id ${f.exchangeTradeId}`);
  few('recent unmatched', r.recentUnmatched, (t) => `trade ${t.tradeId} ${t.side} ${num(t.quantity)} ${t.symbol} @ ${num(t.price)} (${t.at})`);
  if (r.balances.length > 0 || r.quoteUnchecked) {
    lines.push('', 'balances (ledger vs exchange):');
    for (const b of r.balances) {
      lines.push(`  ${b.asset.padEnd(6)} ledger ${b.ledger}  exchange ${b.exchange}  diff ${b.diff}  ${b.status.replace(/_/g, ' ')}`);
      if (b.status === 'exchange_holds_less') lines.push(`         SHORTFALL: ${upperFirst(venue)} holds ${num(b.diff.replace(/^-/, ''))} ${b.asset} less than the ledger says the bot holds`);
    }
    if (r.quoteUnchecked) lines.push(`  ${r.quoteUnchecked.padEnd(6)} not checked: no live equity snapshot, so the ledger has no figure for it yet`);
  }
  if (r.reportFile) lines.push('', `report: ${r.reportFile}`);
  lines.push('', r.summaryLine);
  return lines.join('\n');
}

/** `ctb reconcile`: the reconciliation standing first (what blocks trading), Kraken's open orders now, then the ledger report. */
export function renderReconcileCommand(r: ReconcileCommandResult): string {
  const standing = describeStanding(r.start).join('\n');
  return r.ledgerSkipped === null ? `${standing}\n\n${describeOpenOrders(r.openOrders, r.start).join('\n')}\n\n${renderReconcile(r, r.openOrders.venue)}` : standing;
}

/** The open orders no intent explains, each with what to do — once: those the blocked standing lists are not repeated. */
export function describeOpenOrders(o: OpenOrdersCheck, start: ReconciliationStanding): string[] {
  const n = o.unexplained.length;
  if (n === 0) return [`Open orders on ${o.venue}: ${o.onKraken}, none the bot cannot explain`];
  const listed = new Set(start.differences.map((d) => `${d.kind}:${d.id}`));
  const rest = o.unexplained.filter((d) => !listed.has(`${d.kind}:${d.id}`));
  if (rest.length === 0) return [`Open orders on ${o.venue}: ${o.onKraken}, ${n} the bot cannot explain (listed above)`];
  const lines = [`Open orders on ${o.venue}: ${o.onKraken}, ${n} the bot cannot explain — resolve each: adopt it for the bot to follow, or cancel it on ${o.venue}:`];
  for (const d of rest) lines.push(`  ${d.kind} ${d.id}: ${d.summary}`, `      → ${remedyFor(d)}`);
  if (!start.blocked) lines.push('An armed engine trading live halts for reconciliation when its next look at open orders (every RECONCILE_PROBE_INTERVAL) finds one.');
  return lines;
}

/** `ctb reconcile adopt|cancel`: what was done, and by which process. */
export function renderResolve(r: ResolveResult): string {
  if (r.via === 'this_process' || r.request === null) return r.summary;
  if (r.request.status === 'done' || r.request.status === 'failed') return `${r.summary} — ${r.request.status === 'done' ? 'done' : 'failed'} by the engine's process (request #${r.request.id})`;
  return r.summary;
}
