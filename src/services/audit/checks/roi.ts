// Checklist 5: the ROI audit — ledger ROI against equity-snapshot ROI per book and period, and the
// live book's equity against Kraken's balances; any disagreement beyond ROI_TOLERANCE_PCT fails.
// It passes only on the books that count for go-live, paper or live on Kraken prices: the replay
// feed's book is compared (a disagreement there still fails) but never passes the check on its own.
import { auditRoi, type RoiRow } from '../../roi/roi-audit.js';
import { exchangeBalances } from '../sources/kraken.js';
import { defineCheck, type CheckOutcome } from '../types.js';

/** As golive.criteria: the replay feed's prices are a rehearsal, not evidence. */
const countsForGoLive = (r: Pick<RoiRow, 'feed'>) => r.feed === 'kraken';

/** "paper/kraken 24h, 7d, all; live/kraken all". */
function periodsText(rows: RoiRow[]): string {
  const byBook = new Map<string, string[]>();
  for (const r of rows) byBook.set(`${r.mode}/${r.feed}`, [...(byBook.get(`${r.mode}/${r.feed}`) ?? []), r.period]);
  return [...byBook].map(([book, periods]) => `${book} ${periods.join(', ')}`).join('; ');
}

export const roiCheck = defineCheck({
  id: 'roi.audit',
  title: 'ROI from the ledger agrees with equity snapshots and exchange balances',
  checklistSection: 5,
  async run(ctx, opts): Promise<CheckOutcome> {
    const kraken = ctx.kraken();
    const report = await auditRoi(ctx, { writeReport: !opts.dryRun, ...(kraken ? { exchange: kraken, balances: () => exchangeBalances(ctx)! } : {}) });
    const compared = report.rows.filter((r) => r.status !== 'no_data');
    const bad = report.rows.filter((r) => r.status === 'disagrees');
    const details = { tolerancePp: report.tolerancePp, rows: report.rows.map(({ strategies: _s, ...r }) => r), exchange: report.exchange, reportFile: report.reportFile };
    if (!report.ok) {
      const where = bad.map((r) => `${r.mode}/${r.feed} ${r.period}: ledger ${r.ledgerRoiPct}% vs snapshots ${r.snapshotRoiPct}%`);
      if (report.exchange?.status === 'disagrees') where.push(`live equity ${report.exchange.ledgerEquity} vs Kraken ${report.exchange.exchangeEquity}`);
      return { status: 'fail', value: where.slice(0, 3).join('; '), fix: 'Run ctb audit-roi and find the ledger entries or snapshots that disagree (missing fill, fee, or a deposit/withdrawal).', details };
    }
    if (compared.length === 0) {
      return { status: 'warn', value: 'no equity snapshots to compare yet', fix: 'Let the engine run in paper mode: it records equity snapshots as it trades.', details };
    }
    const counted = compared.filter(countsForGoLive);
    const notCounted = compared.filter((r) => !countsForGoLive(r));
    const replayText = notCounted.length > 0 ? `; ${notCounted.length} replay book-period(s) also agree (${periodsText(notCounted)}), not counted for go-live` : '';
    if (counted.length === 0) {
      return {
        status: 'warn',
        value: `nothing that counts for go-live was compared: ${notCounted.length} book-period(s) of the replay feed agree (${periodsText(notCounted)}), `
          + 'but the replay feed never counts for go-live, and no paper or live book on Kraken prices has two equity snapshots to compare',
        fix: 'Run the engine in paper mode on Kraken prices (MARKET_FEED=kraken): it records equity snapshots as it trades, and the audit compares them once there are two.',
        details,
      };
    }
    if (report.exchange?.status === 'unpriced') {
      return { status: 'warn', value: `${counted.length} book-period(s) agree (${periodsText(counted)}); could not price ${report.exchange.unpriced.join(', ')} on Kraken${replayText}`, fix: 'Check those assets have a market against QUOTE_CURRENCY.', details };
    }
    const inFlight = report.exchange && report.exchange.ordersInFlight > 0 ? ` (counting the fills of ${report.exchange.ordersInFlight} live order(s) in flight)` : '';
    return {
      status: 'pass',
      value: `${counted.length} book-period(s) agree within ${report.tolerancePp} pp (${periodsText(counted)})${report.exchange ? `; live equity matches Kraken${inFlight}` : ''}${replayText}`,
      fix: null,
      details,
    };
  },
});
