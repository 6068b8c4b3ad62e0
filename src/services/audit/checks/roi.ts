// Checklist 5: the ROI audit — ledger ROI against equity-snapshot ROI per book and period, and the
// live book's equity against Kraken's balances; any disagreement beyond ROI_TOLERANCE_PCT fails.
import { auditRoi } from '../../roi/roi-audit.js';
import { exchangeBalances } from '../sources/kraken.js';
import { defineCheck, type CheckOutcome } from '../types.js';

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
    if (report.exchange?.status === 'unpriced') {
      return { status: 'warn', value: `${compared.length} book-period(s) agree; could not price ${report.exchange.unpriced.join(', ')} on Kraken`, fix: 'Check those assets have a market against QUOTE_CURRENCY.', details };
    }
    const inFlight = report.exchange && report.exchange.ordersInFlight > 0 ? ` (counting the fills of ${report.exchange.ordersInFlight} live order(s) in flight)` : '';
    return { status: 'pass', value: `${compared.length} book-period(s) agree within ${report.tolerancePp} pp${report.exchange ? `; live equity matches Kraken${inFlight}` : ''}`, fix: null, details };
  },
});
