// Checklist 6: the paper → live criteria — at least GOLIVE_MIN_PAPER_TRADES closed paper trades on
// live prices (the replay feed is not evidence), paper ROI above GOLIVE_MIN_ROI_PCT (realized PnL
// over the amount the paper account was funded with, as recorded when funded; PAPER_STARTING_BALANCE
// only before any engine funded it, and then it says so), and no critical alert within GOLIVE_ALERT_WINDOW (test alerts aside).
// One exception, for leaving a halt: while the bot is halted with an open incident, that incident's
// own alert group (`kill:<id>`), once resolved, is not counted — the audit a resume needs would
// otherwise fail for 7 days on the kill's own, handled alert. Unresolved, it counts; every other
// critical alert counts; once the incident is closed (resumed), its alerts count again (go-live).
// Another, for the alerts that record a return to paper and what it left: the live approval an unarmed
// engine withdrew (domain/live-withdrawal.ts) and live positions left unchecked on Kraken (the self-heal
// page, domain/live-left-open.ts). Once their group is acknowledged or resolved they are not counted —
// they report a safety action the bot took or its consequence, not a fault of the strategy; counting
// them would refuse the /mode live that is one of the ways back to the live positions left on Kraken,
// for a whole window after an episode someone took (the page is raised again at each engine restart).
// Open — nobody has taken them — they count. The rule is said in the check's details, and its fix.
// A resume in paper does not require this check (it measures a trading record for going live); /mode live does.
// The thresholds are the run's (ctx.thresholds): the gate policy the engine recorded, not whatever
// this process's environment says (src/services/audit/gate-policy.ts).
import { closedPaperTradeFacts, criticalAlertsSince } from '../../../db/queries/audit-facts.js';
import { paperFundingRow } from '../../../db/queries/exchange-paper.js';
import { paperStartOf, paperStartReason } from '../../../domain/paper-start.js';
import { openIncident } from '../../../db/queries/kill-incidents.js';
import { getBotState } from '../../bot-state.js';
import { WITHDRAWAL_FINGERPRINT } from '../../../domain/live-withdrawal.js';
import { LIVE_LEFT_FINGERPRINT } from '../../../domain/live-left-open.js';
import { Decimal } from '../../../money.js';
import { defineCheck, type CheckOutcome } from '../types.js';

function windowText(ms: number): string {
  const day = 86_400_000;
  return ms % day === 0 ? `${ms / day}d` : ms % 3_600_000 === 0 ? `${ms / 3_600_000}h` : `${Math.round(ms / 60_000)}m`;
}

/** Where the thresholds come from, for the fix line. */
function changeHint(source: 'engine' | 'process'): string {
  return source === 'engine'
    ? "the gate policy the engine recorded: GOLIVE_MIN_PAPER_TRADES, GOLIVE_MIN_ROI_PCT, GOLIVE_ALERT_WINDOW in the engine's environment"
    : 'GOLIVE_MIN_PAPER_TRADES, GOLIVE_MIN_ROI_PCT, GOLIVE_ALERT_WINDOW';
}

/**
 * The alert groups that record a return to paper and what it left: an event of theirs is not counted
 * once someone acknowledged or resolved the group after it was raised; one raised after the
 * acknowledgement counts until the group is resolved.
 */
export const PAPER_RETURN_FINGERPRINTS: readonly string[] = [WITHDRAWAL_FINGERPRINT, LIVE_LEFT_FINGERPRINT];

/**
 * What meets the unmet criteria: paper trading meets the trade count and ROI; the critical alerts only
 * age out of the window. A halted bot does not paper trade: a resume (in paper) does not require this
 * check (services/kill/resume-audit.ts), so it says to resume first; /mode live requires it.
 */
function meetText(unmet: string[], window: string, halted: boolean): string {
  const record = unmet.filter((n) => n !== 'critical alerts');
  const steps = [
    ...(record.length > 0 ? [`keep paper trading until ${record.join(', ')} ${record.length === 1 ? 'is' : 'are'} met`] : []),
    ...(unmet.includes('critical alerts') ? [`wait until the counted critical alerts are older than ${window}, with no new one`] : []),
  ].join('; and ');
  return halted
    ? `The bot is halted and does not paper trade: ctb resume (/mode resume) does not require this check and resumes in paper; then ${steps}. /mode live requires it`
    : `${steps.charAt(0).toUpperCase()}${steps.slice(1)}`;
}

/** Which critical alerts count against the criteria, in the audit's words. */
export function criticalAlertRule(window: string, incidentId: number | null): string {
  return `counted: every critical alert raised in the last ${window} (test alerts aside), except those that record a return to paper `
    + '(the live approval withdrawn by an unarmed engine, live positions left unchecked on Kraken) once someone acknowledged or resolved '
    + 'their alert after it was raised (one raised after the acknowledgement counts until the alert is resolved)'
    + (incidentId === null ? '' : `, and incident ${incidentId}'s own alerts once resolved, for its resume`);
}

export const goLiveCriteriaCheck = defineCheck({
  id: 'golive.criteria',
  title: 'Paper → live criteria: paper trades, ROI, no critical alerts',
  checklistSection: 6,
  async run(ctx): Promise<CheckOutcome> {
    const c = ctx.config;
    const t = ctx.thresholds.used;
    const since = new Date(ctx.clock.now().getTime() - t.alertWindowMs);
    const paper = await closedPaperTradeFacts(ctx.db);
    const count = paper.count;
    const paperStart = paperStartOf(await paperFundingRow(ctx.db, c.QUOTE_CURRENCY), c.PAPER_STARTING_BALANCE);
    const start = new Decimal(paperStart.amount);
    const roi = new Decimal(paper.pnl).div(start).mul(100);
    const why = paperStartReason(paperStart.from);
    const over = why ? `, over PAPER_STARTING_BALANCE ${start.toString()}: ${why}` : '';
    const halted = (await getBotState(ctx.db)).halted;
    const incident = halted ? await openIncident(ctx.db) : undefined;
    const { counted: critical, excused, safetyActions } = await criticalAlertsSince(ctx.db, since, incident?.id ?? null, PAPER_RETURN_FINGERPRINTS);
    const excusedText = (excused > 0 ? `; ${excused} more of incident ${incident!.id}'s own alerts, resolved, not counted for its resume` : '')
      + (safetyActions > 0 ? `; ${safetyActions} more of a return to paper (the live approval withdrawn, or live positions left unchecked), acknowledged or resolved after it was raised, not counted: a safety action, not a fault of the strategy` : '');
    const rule = criticalAlertRule(windowText(t.alertWindowMs), incident?.id ?? null);
    const criteria = [
      t.minPaperTrades >= 1
        ? { name: 'paper trades', ok: count >= t.minPaperTrades, text: `${count} paper trades (need ≥ ${t.minPaperTrades})` }
        // The configuration refuses 0; a stored policy or threshold of 0 still never passes on no evidence.
        : { name: 'paper trades', ok: false, text: `${count} paper trades (the threshold is ${t.minPaperTrades}, which is refused: GOLIVE_MIN_PAPER_TRADES must be at least 1)` },
      { name: 'ROI', ok: roi.gt(t.minRoiPct), text: `paper ROI ${roi.toFixed(2)}% (need > ${t.minRoiPct}%${over})` },
      { name: 'critical alerts', ok: critical === 0, text: `${critical} critical alerts in ${windowText(t.alertWindowMs)} (need 0${excusedText})` },
    ];
    const details = {
      paperTrades: count, minPaperTrades: t.minPaperTrades, paperRoiPct: roi.toFixed(4), minRoiPct: Number(t.minRoiPct),
      paperStartingBalance: start.toString(), paperStartingBalanceFrom: paperStart.from,
      criticalAlerts: critical, criticalAlertRule: rule, ...(excused > 0 ? { excusedIncidentAlerts: excused, incidentId: incident!.id } : {}), ...(safetyActions > 0 ? { excusedPaperReturnAlerts: safetyActions } : {}), alertWindow: windowText(t.alertWindowMs), criteria: criteria.map(({ name, ok }) => ({ name, ok })),
      thresholds: t, thresholdsFrom: ctx.thresholds.source === 'engine' ? 'gate policy' : 'this process',
      ...(ctx.thresholds.envIgnored.length > 0 ? { envIgnored: ctx.thresholds.envIgnored.map((o) => `${o.env}=${o.value}`) } : {}),
    };
    const ignored = ctx.thresholds.envIgnored.map((o) => `this environment's ${o.env}=${o.value} is looser than the gate policy's ${o.policy} and was ignored`);
    const value = [...criteria.map((x) => x.text), ...ignored].join('; ');
    const unmet = criteria.filter((x) => !x.ok);
    if (unmet.length > 0) {
      const floor = t.minPaperTrades < 1 ? `Set GOLIVE_MIN_PAPER_TRADES to at least 1${ctx.thresholds.source === 'engine' ? " in the engine's environment and restart the engine (ctb start)" : ''}, then audit again. ` : '';
      const alertsRule = critical > 0 ? ` Critical alerts ${rule}.` : '';
      return { status: 'fail', value, fix: `${floor}${meetText(unmet.map((x) => x.name), windowText(t.alertWindowMs), halted)} (thresholds: ${changeHint(ctx.thresholds.source)}).${alertsRule}`, details };
    }
    return { status: 'pass', value, fix: null, details };
  },
});
