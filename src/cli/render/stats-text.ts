// Renders a stats report as terminal text: one column per book (paper, live, replay) so the
// figures read side by side, then the strategies and the latest closed trades. Money to the cent,
// percentages to 2 decimals (the JSON output keeps every digit); gains green, losses red. Figures
// read from an equity snapshot that is not fresh carry a `*`, and a note under the table says how
// old that snapshot is and why no newer one came.
import type { BookStats, StatsReport } from '../../services/stats/compute-stats.js';
import { money, pct, signedMoney, signedPct } from '../../domain/amount-text.js';
import { startingCapitalNote } from '../../domain/paper-start.js';
import { asOfText } from '../../domain/snapshot-age.js';
import { plain, type Style } from './style.js';
import { table } from './table.js';

type Cell = (b: BookStats, s: Style) => string;

/** A book whose latest snapshot is not fresh: its snapshot figures are marked. */
const stale = (b: BookStats): boolean => Boolean(b.asOf && !b.asOf.fresh);
/** A figure read from the book's latest equity snapshot. */
const fromSnapshot = (cell: Cell): Cell => (b, s) => (stale(b) ? `${cell(b, s)}*` : cell(b, s));

/** Green for a gain, red for a loss, as the sign of the text says. */
export function tone(text: string, s: Style): string {
  if (text.startsWith('+')) return s.green(text);
  if (text.startsWith('-')) return s.red(text);
  return text;
}

const ROWS: Array<[string, Cell]> = [
  ['trades (total)', (b) => String(b.trades.total)],
  ['open', (b) => String(b.trades.open)],
  ['closed', (b) => String(b.trades.closed)],
  ['wins / losses', (b) => `${b.trades.wins} / ${b.trades.losses}`],
  ['win rate', (b) => pct(b.trades.winRatePct)],
  ['realised PnL', (b, s) => tone(signedMoney(b.pnl.realized), s)],
  ['unrealised PnL', fromSnapshot((b, s) => tone(signedMoney(b.pnl.unrealized), s))],
  ['fees', (b) => money(b.pnl.fees)],
  ['ROI (period)', (b, s) => tone(signedPct(b.roi.periodPct), s)],
  ['ROI (total)', (b, s) => tone(signedPct(b.roi.totalPct), s)],
  ['equity', fromSnapshot((b) => money(b.equity?.latest))],
  ['max drawdown', (b) => pct(b.drawdown.maxPct)],
  ['current drawdown', fromSnapshot((b) => pct(b.drawdown.currentPct))],
  ['exposure', (b, s) => `${money(b.exposure.costBasis)}${b.exposure.pctOfEquity ? ` (${fromSnapshot(() => pct(b.exposure.pctOfEquity))(b, s)})` : ''}`],
];

/** "* live: equity 9,839.91 as of 2026-12-05 13:49:56 UTC, 4m ago — no snapshot since: the bot is halted (…)". */
export function staleSnapshotNote(b: BookStats): string | null {
  if (!b.asOf || b.asOf.fresh) return null;
  return `* ${b.book}: equity ${money(b.equity?.latest)} ${asOfText(b.asOf)} (unrealised PnL, current drawdown and exposure % are from the same snapshot)`;
}

/** "paper: ROI is over this process's PAPER_STARTING_BALANCE (…): why" (domain/paper-start.ts has the words). */
export function startingCapitalLine(b: BookStats): string | null {
  const note = startingCapitalNote(b.roi);
  return note === null ? null : `${b.book}: ${note}`;
}

export function renderStatsText(report: StatsReport, style: Style = plain): string {
  const span = report.from ? `${report.from} → ${report.to}` : `all time → ${report.to}`;
  const heads = report.books.map((b) => (b.countsTowardGoLive ? b.book : `${b.book} (not for go-live)`));
  const rows = ROWS.map(([label, get]) => [label, ...report.books.map((b) => get(b, style))]);
  const out = [
    style.bold(`stats ${report.period}`) + ` (${span})`,
    table(['', ...heads], rows, { right: heads.map((_, i) => i + 1), style }),
  ];
  const notes = report.books.flatMap((b) => [staleSnapshotNote(b), startingCapitalLine(b)]).filter((n): n is string => n !== null);
  if (notes.length > 0) out.push(...notes.map((n) => style.yellow(n)));
  const strategies = report.books.flatMap((b) => b.strategies.map((s) => ({ book: b.book, ...s })));
  if (strategies.length > 0) {
    out.push('', 'by strategy:');
    out.push(table(
      ['BOOK/STRATEGY', 'CLOSED', 'WON', 'LOST', 'PNL', 'FEES', 'ROI ON DEPLOYED'],
      strategies.map((s) => [
        `${s.book}/${s.strategy}`, String(s.closed), String(s.wins), String(s.losses),
        tone(signedMoney(s.realizedPnl), style), money(s.fees), tone(signedPct(s.roiPct), style),
      ]),
      { right: [1, 2, 3, 4, 5, 6], style },
    ));
  }
  if (report.recentClosed.length > 0) {
    out.push('', 'latest closed trades:');
    out.push(table(
      ['ID', 'CLOSED AT', 'BOOK/STRATEGY', 'PAIR', 'PNL'],
      report.recentClosed.map((t) => [`#${t.id}`, t.exitAt, `${t.book}/${t.strategy}`, t.symbol, tone(signedMoney(t.realizedPnl), style)]),
      { right: [4], style },
    ));
  }
  return out.join('\n');
}
