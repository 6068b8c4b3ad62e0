// `ctb audit-roi` as text: money to the cent like every other table (the JSON report keeps every digit).
import { describe, expect, it } from 'vitest';
import { renderRoi } from '../../../src/cli/render/roi.js';
import type { RoiAuditReport } from '../../../src/services/roi/roi-audit.js';

const report: RoiAuditReport = {
  kind: 'roi_audit', schemaVersion: 1, ok: true, at: '2026-12-05T02:16:18Z', tolerancePp: 0.5,
  rows: [{
    mode: 'paper', feed: 'replay', period: 'all', from: null, to: '2026-12-05T02:16:18Z', startEquity: '10000', endEquity: '9977.54',
    snapshotRoiPct: '-0.2246', ledgerRoiPct: '-0.2246', diffPp: '0.0000', status: 'agrees',
    strategies: [
      { strategy: 'btc-ma-cross', closedTrades: 6, realizedPnl: '-20.927063202069749400', deployed: '12000', roiPct: '-0.1745' },
      { strategy: 'eth-breakout', closedTrades: 2, realizedPnl: '1234.5', deployed: '4000', roiPct: '30.8625' },
    ],
  }],
  exchange: { snapshotEquity: '10010', ledgerEquity: '10000.123456', exchangeEquity: '9999.995', diffPct: '0.0013', status: 'agrees', unpriced: [], ordersInFlight: 0 },
  summaryLine: 'ROI AUDIT OK', reportFile: null,
};

describe('renderRoi', () => {
  it('rounds each strategy PnL and the live equity to the cent, signed where a gain is meant', () => {
    const text = renderRoi(report);
    expect(text).toContain('btc-ma-cross         6 closed  pnl -20.93  roi -0.1745%');
    expect(text).toContain('eth-breakout         2 closed  pnl +1,234.50  roi 30.8625%');
    expect(text).toContain('live equity 10,000.12 vs Kraken 10,000.00 (0.0013% apart) AGREES');
    expect(text).not.toContain('20.927063');
    expect(text).not.toContain('in flight');
  });

  it('says when the ledger side counts the fills of live orders in flight, and how many', () => {
    const text = renderRoi({ ...report, exchange: { ...report.exchange!, ordersInFlight: 2 } });
    expect(text).toContain("live equity 10,000.12 vs Kraken 10,000.00 (0.0013% apart) AGREES\n  the ledger's side counts the fills of 2 live order(s) in flight");
  });
});
