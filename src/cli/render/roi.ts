// Renders a RoiAuditReport: one line per book and period (ledger ROI, snapshot ROI, difference),
// per-strategy realized ROI beneath, the live equity comparison, and the summary line. Money is
// shown to the cent, as in every table; the JSON report keeps every digit.
import type { RoiAuditReport } from '../../services/roi/roi-audit.js';
import { money, signedMoney } from '../../domain/amount-text.js';

export function renderRoi(r: RoiAuditReport): string {
  const lines = [`tolerance ${r.tolerancePp} percentage points`, ''];
  if (r.rows.length === 0) lines.push('no equity snapshots yet');
  for (const row of r.rows) {
    const head = `${row.mode}/${row.feed}`.padEnd(14) + row.period.padEnd(5);
    if (row.status === 'no_data') {
      lines.push(`  ${head} no data for this period`);
      continue;
    }
    lines.push(`  ${head} ledger ${row.ledgerRoiPct}%  snapshots ${row.snapshotRoiPct}%  diff ${row.diffPp} pp  ${row.status.toUpperCase()}`);
    for (const s of row.strategies) lines.push(`      ${s.strategy.padEnd(20)} ${s.closedTrades} closed  pnl ${signedMoney(s.realizedPnl)}  roi ${s.roiPct ?? '-'}%`);
  }
  if (r.exchange) {
    lines.push('', `live equity ${money(r.exchange.ledgerEquity)} vs Kraken ${money(r.exchange.exchangeEquity)} (${r.exchange.diffPct}% apart) ${r.exchange.status.toUpperCase()}`);
    if (r.exchange.ordersInFlight > 0) {
      lines.push(`  the ledger's side counts the fills of ${r.exchange.ordersInFlight} live order(s) in flight: what they bought or sold and the cash they moved, though no trade holds them yet`);
    }
  }
  if (r.reportFile) lines.push('', `report: ${r.reportFile}`);
  lines.push('', r.summaryLine);
  return lines.join('\n');
}
