// Renders a stats report as terminal text: one column per book (paper, live, replay) so the
// figures read side by side, then the strategies and the latest closed trades.
import type { BookStats, StatsReport } from '../../services/stats/compute-stats.js';

const dash = (v: string | null | undefined, suffix = ''): string => (v === null || v === undefined ? '—' : `${v}${suffix}`);

const ROWS: Array<[string, (b: BookStats) => string]> = [
  ['trades (total)', (b) => String(b.trades.total)],
  ['open', (b) => String(b.trades.open)],
  ['closed', (b) => String(b.trades.closed)],
  ['wins / losses', (b) => `${b.trades.wins} / ${b.trades.losses}`],
  ['win rate', (b) => dash(b.trades.winRatePct, '%')],
  ['realised PnL', (b) => b.pnl.realized],
  ['unrealised PnL', (b) => dash(b.pnl.unrealized)],
  ['fees', (b) => b.pnl.fees],
  ['ROI (period)', (b) => dash(b.roi.periodPct, '%')],
  ['ROI (total)', (b) => dash(b.roi.totalPct, '%')],
  ['equity', (b) => dash(b.equity?.latest)],
  ['max drawdown', (b) => dash(b.drawdown.maxPct, '%')],
  ['current drawdown', (b) => dash(b.drawdown.currentPct, '%')],
  ['exposure', (b) => `${b.exposure.costBasis}${b.exposure.pctOfEquity ? ` (${b.exposure.pctOfEquity}%)` : ''}`],
];

export function renderStatsText(report: StatsReport): string {
  const span = report.from ? `${report.from} → ${report.to}` : `all time → ${report.to}`;
  const heads = report.books.map((b) => (b.countsTowardGoLive ? b.book : `${b.book} (not for go-live)`));
  const cells = ROWS.map(([label, get]) => [label, ...report.books.map(get)]);
  const widths = [Math.max(...cells.map((r) => r[0]!.length)), ...heads.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i + 1]!.length)))];
  const line = (cols: string[]) => cols.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('   ');
  const out = [`stats ${report.period} (${span})`, '', line(['', ...heads]), ...cells.map(line)];
  const strategies = report.books.flatMap((b) => b.strategies.map((s) => ({ book: b.book, ...s })));
  if (strategies.length > 0) {
    out.push('', 'by strategy:');
    for (const s of strategies) {
      out.push(`  ${s.book}/${s.strategy}: ${s.closed} closed, ${s.wins} won, ${s.losses} lost, PnL ${s.realizedPnl}, fees ${s.fees}, ROI on deployed ${dash(s.roiPct, '%')}`);
    }
  }
  if (report.recentClosed.length > 0) {
    out.push('', 'latest closed trades:');
    for (const t of report.recentClosed) out.push(`  #${t.id} ${t.exitAt} ${t.book}/${t.strategy} ${t.symbol} PnL ${t.realizedPnl}`);
  }
  return out.join('\n');
}
