// Renders stats reports for Slack: `/stats [period]` and the daily/weekly summaries. One section of
// fields per book — paper and live side by side, replay marked as practice that never counts
// toward go-live. Pure functions of the report, tested on their JSON. Figures read as `ctb stats`
// shows them: money to the cent, PnL and ROI signed, percentages to 2 decimals. Figures read from
// an equity snapshot that is not fresh say how old it is, and why no newer one came.
import { money, pct, signedMoney, signedPct } from '../../domain/amount-text.js';
import { startingCapitalNote } from '../../domain/paper-start.js';
import { asOfText, formatAgo } from '../../domain/snapshot-age.js';
import { slackDate } from './format.js';
import type { BookStats, StatsReport } from '../../services/stats/compute-stats.js';
import { context, fields, header, section, type KnownBlock, type SlackMessage } from './message.js';

export function periodLabel(report: Pick<StatsReport, 'period' | 'from' | 'to'>): string {
  if (report.period === 'all') return 'all time';
  if (report.period === 'custom') return `${report.from ?? 'start'} → ${report.to}`;
  return `last ${report.period}`;
}

function bookTitle(b: BookStats): string {
  if (b.book === 'live') return ':red_circle: *Live*';
  if (b.book === 'paper') return ':page_facing_up: *Paper*';
  return ':repeat: *Replay* — practice on recorded prices, not counted toward go-live';
}

function bookBlocks(b: BookStats): KnownBlock[] {
  const won = b.trades.winRatePct === null ? '' : ` (${pct(b.trades.winRatePct)} won)`;
  const stale = b.asOf && !b.asOf.fresh ? b.asOf : null;
  // Beside each figure read from a snapshot that is not fresh; the context line below says why.
  const old = stale ? ` _(${formatAgo(stale.ageSeconds)} old)_` : '';
  const blocks: KnownBlock[] = [
    section(bookTitle(b)),
    fields([
      ['Trades', `${b.trades.closed} closed · ${b.trades.open} open`],
      ['Wins / losses', `${b.trades.wins} / ${b.trades.losses}${won}`],
      ['Realised PnL', `${signedMoney(b.pnl.realized)} (fees ${money(b.pnl.fees)})`],
      ['Unrealised PnL', b.pnl.unrealized === null ? '— (no fresh marks)' : `${signedMoney(b.pnl.unrealized)}${old}`],
      ['ROI', `${signedPct(b.roi.periodPct)} in period · ${signedPct(b.roi.totalPct)} all time`],
      ['Drawdown', `${pct(b.drawdown.currentPct)} now${old} · ${pct(b.drawdown.maxPct)} max`],
      ['Equity', `${money(b.equity?.latest)}${old}`],
      ['Exposure', `${money(b.exposure.costBasis)}${b.exposure.pctOfEquity === null ? '' : ` (${pct(b.exposure.pctOfEquity)} of equity${old})`}`],
    ]),
  ];
  if (stale) {
    blocks.push(context(`:warning: Equity ${money(b.equity?.latest)} ${asOfText(stale, slackDate)}. Unrealised PnL, drawdown now and exposure % are from the same snapshot.`));
  }
  const note = startingCapitalNote(b.roi);
  if (note) blocks.push(context(`${note}.`));
  return blocks;
}

function fallbackText(title: string, report: StatsReport): string {
  const books = report.books
    .filter((b) => b.book !== 'replay' || b.trades.closed + b.trades.open > 0)
    .map((b) => `${b.book}: ${b.trades.closed} closed, ${b.trades.wins}W/${b.trades.losses}L, PnL ${signedMoney(b.pnl.realized)}, ROI ${signedPct(b.roi.periodPct)}, drawdown ${pct(b.drawdown.currentPct)} now, ${pct(b.drawdown.maxPct)} max`);
  return `${title}: ${books.join('; ')}`;
}

function statsBlocks(report: StatsReport): KnownBlock[] {
  const blocks = report.books.flatMap(bookBlocks);
  blocks.push(context(`Window ${report.from ?? 'since the first trade'} → ${report.to} (UTC). ROI in period is over equity at its start; drawdown is the risk guard's: now is from its peak, max is the deepest fall inside the period from the peak known by then.`));
  return blocks;
}

export function renderStats(report: StatsReport): SlackMessage {
  const title = `Stats — ${periodLabel(report)}`;
  return { text: fallbackText(title, report), blocks: [header(title), ...statsBlocks(report)] };
}

export function renderStatsSummary(input: { kind: 'daily' | 'weekly'; periodKey: string; report: StatsReport }): SlackMessage {
  const title = `${input.kind === 'daily' ? 'Daily' : 'Weekly'} summary — ${input.periodKey}`;
  return { text: fallbackText(title, input.report), blocks: [header(title), ...statsBlocks(input.report)] };
}

/** The note posted in the thread when there is no picture to show. */
export function renderNoChart(report: Pick<StatsReport, 'period' | 'from' | 'to'>): SlackMessage {
  const text = `No equity snapshots in ${periodLabel(report)} yet, so there is no equity chart.`;
  return { text, blocks: [context(text)] };
}
