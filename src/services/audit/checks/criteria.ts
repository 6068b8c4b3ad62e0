// Checklist 6: the paper → live criteria — at least GOLIVE_MIN_PAPER_TRADES closed paper trades on
// live prices (the replay feed is not evidence), paper ROI above GOLIVE_MIN_ROI_PCT (realized PnL
// over PAPER_STARTING_BALANCE), and no critical alert within GOLIVE_ALERT_WINDOW (test alerts aside).
// One exception, for leaving a halt: while the bot is halted with an open incident, that incident's
// own alert group (`kill:<id>`), once resolved, is not counted — the audit a resume needs would
// otherwise fail for 7 days on the kill's own, handled alert. Unresolved, it counts; every other
// critical alert counts; once the incident is closed (resumed), its alerts count again (go-live).
import { closedPaperTradeFacts, criticalAlertsSince } from '../../../db/queries/audit-facts.js';
import { openIncident } from '../../../db/queries/kill-incidents.js';
import { getBotState } from '../../bot-state.js';
import { Decimal } from '../../../money.js';
import { defineCheck, type CheckOutcome } from '../types.js';

function windowText(ms: number): string {
  const day = 86_400_000;
  return ms % day === 0 ? `${ms / day}d` : ms % 3_600_000 === 0 ? `${ms / 3_600_000}h` : `${Math.round(ms / 60_000)}m`;
}

export const goLiveCriteriaCheck = defineCheck({
  id: 'golive.criteria',
  title: 'Paper → live criteria: paper trades, ROI, no critical alerts',
  checklistSection: 6,
  async run(ctx): Promise<CheckOutcome> {
    const c = ctx.config;
    const since = new Date(ctx.clock.now().getTime() - c.GOLIVE_ALERT_WINDOW);
    const paper = await closedPaperTradeFacts(ctx.db);
    const count = paper.count;
    const roi = new Decimal(paper.pnl).div(c.PAPER_STARTING_BALANCE).mul(100);
    const incident = (await getBotState(ctx.db)).halted ? await openIncident(ctx.db) : undefined;
    const { counted: critical, excused } = await criticalAlertsSince(ctx.db, since, incident?.id ?? null);
    const excusedText = excused > 0 ? `; ${excused} more of incident ${incident!.id}'s own alerts, resolved, not counted for its resume` : '';
    const criteria = [
      { name: 'paper trades', ok: count >= c.GOLIVE_MIN_PAPER_TRADES, text: `${count} paper trades (need ≥ ${c.GOLIVE_MIN_PAPER_TRADES})` },
      { name: 'ROI', ok: roi.gt(c.GOLIVE_MIN_ROI_PCT), text: `paper ROI ${roi.toFixed(2)}% (need > ${c.GOLIVE_MIN_ROI_PCT}%)` },
      { name: 'critical alerts', ok: critical === 0, text: `${critical} critical alerts in ${windowText(c.GOLIVE_ALERT_WINDOW)} (need 0${excusedText})` },
    ];
    const details = {
      paperTrades: count, minPaperTrades: c.GOLIVE_MIN_PAPER_TRADES, paperRoiPct: roi.toFixed(4), minRoiPct: c.GOLIVE_MIN_ROI_PCT,
      criticalAlerts: critical, ...(excused > 0 ? { excusedIncidentAlerts: excused, incidentId: incident!.id } : {}), alertWindow: windowText(c.GOLIVE_ALERT_WINDOW), criteria: criteria.map(({ name, ok }) => ({ name, ok })),
    };
    const value = criteria.map((x) => x.text).join('; ');
    const unmet = criteria.filter((x) => !x.ok);
    if (unmet.length > 0) {
      return { status: 'fail', value, fix: `Keep paper trading until ${unmet.map((x) => x.name).join(', ')} ${unmet.length === 1 ? 'is' : 'are'} met (thresholds: GOLIVE_MIN_PAPER_TRADES, GOLIVE_MIN_ROI_PCT, GOLIVE_ALERT_WINDOW).`, details };
    }
    return { status: 'pass', value, fix: null, details };
  },
});
