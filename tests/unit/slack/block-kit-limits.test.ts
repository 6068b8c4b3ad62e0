// Every Slack view, fed the largest inputs it can meet (26 weeks of shifts, dozens of failing checks,
// long titles and reasons), stays within Block Kit's documented limits — with and without the
// paper/LIVE badge the replies add. Slack refuses a message over them (`invalid_blocks`), so the
// message would never arrive. A view added to src/slack/views without a case here fails the test.
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { OncallShowResult } from '../../../commands/oncall-show.js';
import type { Incident, IncidentChecklistItem } from '../../../src/db/schema/index.js';
import type { AuditReport, CheckResult } from '../../../src/services/audit/types.js';
import { placeholderRunbookData } from '../../../src/domain/runbook/index.js';
import type { BookStats, StatsReport } from '../../../src/services/stats/compute-stats.js';
import * as alertAction from '../../../src/slack/views/alert-action.js';
import { parentMessage } from '../../../src/slack/views/alert.js';
import * as appHome from '../../../src/slack/views/app-home.js';
import * as audit from '../../../src/slack/views/audit.js';
import { withBadge } from '../../../src/slack/views/badge.js';
import * as error from '../../../src/slack/views/error.js';
import * as exit from '../../../src/slack/views/exit.js';
import * as help from '../../../src/slack/views/help.js';
import * as kill from '../../../src/slack/views/kill.js';
import { sectionsOf, listSection, type SlackMessage } from '../../../src/slack/views/message.js';
import * as modeChange from '../../../src/slack/views/mode-change.js';
import * as modeStatus from '../../../src/slack/views/mode-status.js';
import * as oncall from '../../../src/slack/views/oncall.js';
import * as pause from '../../../src/slack/views/pause.js';
import * as runbook from '../../../src/slack/views/runbook.js';
import * as stats from '../../../src/slack/views/stats.js';
import * as trades from '../../../src/slack/views/trades.js';
import { alertEventRow, alertGroupRow } from '../../support/alert-rows.js';
import { BLOCK_KIT_LIMITS, blockKitProblems } from '../../support/block-kit-limits.js';
import { bigDashboard, dashboardFixture, engineFixture } from '../../support/factories/dashboard.js';

const long = (s: string, n = 400) => `${s} ${'<long & detailed> '.repeat(Math.ceil(n / 18))}`.slice(0, n);
const at = new Date('2026-01-05T12:00:00Z');
const iso = (days: number) => new Date(at.getTime() + days * 86_400_000).toISOString();

const check = (i: number, status: CheckResult['status']): CheckResult => ({
  id: `section.check_${i}`, title: long(`Check ${i}`, 120), section: (1 + (i % 9)) as CheckResult["section"], sectionTitle: 'Section', status,
  value: long(`measured ${i}`, 300), fix: long(`fix ${i}`, 300), durationMs: 5,
});
const auditReport = (n: number): AuditReport => {
  const results = Array.from({ length: n }, (_, i) => check(i, i % 3 === 0 ? 'warn' : 'fail'));
  const count = (s: CheckResult['status']) => results.filter((r) => r.status === s).length;
  return {
    kind: 'audit', schemaVersion: 3, ok: false, runId: 42, at: at.toISOString(), actor: 'UOPERATOR1', mode: 'paper', armed: false, dryRun: false, only: null,
    summary: { pass: 0, warn: count('warn'), fail: count('fail'), total: n }, summaryLine: `AUDIT FAILED — 0 pass, ${count('warn')} warn, ${count('fail')} fail`, results,
    thresholds: { used: { minPaperTrades: 50, minRoiPct: '0', alertWindowMs: 604_800_000 }, described: '≥ 50 paper trades, paper ROI > 0%, no critical alert in 7d', source: 'engine', recordedBy: 'bot-host:4242 (all)', recordedAt: '2026-11-20T09:00:00.000Z', envIgnored: [], envStricter: [] },
  };
};

const SHIFTS = 26;
const oncallShow = (): OncallShowResult => ({
  ok: true,
  rotation: { members: Array.from({ length: 30 }, (_, i) => `U0MEMBER${String(i).padStart(3, '0')}`), handoff: 'mon 09:00', timeZone: 'America/Argentina/Buenos_Aires', updatedBy: 'UOPS1', updatedAt: iso(-3) },
  now: { primary: 'U0MEMBER000', via: 'rotation', next: 'U0MEMBER001', until: iso(7) },
  fallback: ['UAPP1', 'UAPP2'],
  upcoming: Array.from({ length: SHIFTS }, (_, i) => ({ userId: `U0MEMBER${String(i).padStart(3, '0')}`, startsAt: iso(7 * i), endsAt: iso(7 * i + 7) })),
  overrides: Array.from({ length: 40 }, (_, i) => ({ id: i, userId: `U0OVER${String(i).padStart(4, '0')}`, startsAt: iso(i), endsAt: iso(i + 1), createdBy: 'U0OPS0001' })),
  policies: [
    { severity: 'critical', steps: ['oncall', 'next', 'approvers'], ackSlaMs: 300_000, maxRounds: 3, email: true, stored: true },
    { severity: 'warning', steps: [], ackSlaMs: 300_000, maxRounds: 3, email: false, stored: false },
    { severity: 'info', steps: [], ackSlaMs: 300_000, maxRounds: 3, email: false, stored: false },
  ],
  routes: { slack: true, email: true },
  // Every member deactivated in Slack since they were added: a warning each.
  warnings: Array.from({ length: 30 }, (_, i) => `U0MEMBER${String(i).padStart(3, '0')} cannot be paged: Slack says deactivated. ${long('what to do', 300)}`),
} as OncallShowResult);

const book = (name: BookStats['book']): BookStats => ({
  book: name, countsTowardGoLive: name !== 'replay',
  trades: { total: 123456, open: 12, closed: 123444, wins: 60000, losses: 63000, breakeven: 444, winRatePct: '48.6051' },
  pnl: { realized: '-123456.12345678', unrealized: '-1.25', unrealizedMarkedAt: iso(0), fees: '9876.54321' },
  roi: { totalPct: '-12.3456', periodPct: '-1.1', startingCapital: '1000000', startingCapitalFrom: 'config', periodStartEquity: '990000' },
  equity: { latest: '876543.87654321', at: iso(0), peak: '1000000' },
  asOf: {
    at: iso(0), ageSeconds: 9_999_999, fresh: false, staleAfterSeconds: 1800,
    reasons: ['no snapshot since: the bot is halted', 'a trade was opened or closed since', 'no snapshot for over 30m: the engine is not running'],
  },
  drawdown: { maxPct: '12.3456', maxAmount: '123456.12', currentPct: '12.3456' },
  exposure: { costBasis: '130000.12', pctOfEquity: '14.8312' },
  strategies: Array.from({ length: 30 }, (_, i) => ({
    strategy: long(`strategy-${i}`, 80), closed: 1000, wins: 500, losses: 500, realizedPnl: '-12.5', fees: '1.25', deployed: '100000', roiPct: '-0.0125',
  })),
});
const statsReport = (): StatsReport => ({
  period: '30d', from: iso(-30), to: iso(0), closed: 123444, open: 12, books: [book('paper'), book('live'), book('replay')],
  recentClosed: Array.from({ length: 50 }, (_, i) => ({ id: i, book: 'paper' as const, strategy: long('s', 80), symbol: 'BTC/USD', exitAt: iso(-i), realizedPnl: '-1.5' })),
});

const incident: Incident = {
  id: 4, killId: 'k', openedAt: at, openedBy: 'U0ALICE', trigger: 'manual', reason: long('fills look wrong', 500), status: 'open',
  cancelReport: {}, slackChannel: null, slackTs: null, threadShown: null, closedAt: null, closedBy: null,
};
const items: IncidentChecklistItem[] = (['cancel_orders', 'close_positions', 'reconcile_ledger', 'notify_stakeholders'] as const).map((item, i) => ({
  id: i, incidentId: 4, item, position: i, label: long(item, 200), doneAt: i === 0 ? at : null, doneBy: i === 0 ? 'U0BOB' : null,
  // One of each state, with the longest summaries an answer can carry.
  state: (['done', 'pending', 'failed', 'todo'] as const)[i], requestId: i === 1 || i === 2 ? 123456 : null,
  outcome: i === 3 ? null : { summary: long('summary', 5000) },
} as IncidentChecklistItem));
const survivors = Array.from({ length: 200 }, (_, i) => ({ exchangeOrderId: `O${i}-ABCDEF-GHIJKL`, clientOrderId: `c${i}`, symbol: 'BTC/USD', side: 'buy' as const, quantity: '0.123456789' }));

const statusResult = (over: Record<string, unknown> = {}) => ({
  ok: true as const, mode: 'live' as const, requestedMode: 'live' as const, armed: true, halted: true, haltedReason: long('reason', 500), haltedAt: at,
  haltedBy: 'UOPS1', entriesPaused: true, entriesPausedReason: long('paused', 500), latestAudit: null, openRequest: null,
  tradingState: { state: 'halted' as const, reason: long('reason', 500), by: 'UOPS1', at, entriesPaused: true },
  engine: engineFixture({ host: long('host', 255), role: long('role', 100), feed: long('feed', 100), armed: true }), shell: { armed: false, hasKrakenKeys: false },
  reconciliation: { blocked: true, reconciledThrough: null, at: at.toISOString(), cause: 'start', pending: false, takenOverFrom: long('holder', 200), differences: [] }, ...over,
});

const helpCommands = Array.from({ length: 8 }, (_, i) => ({
  command: `/cmd${i}`, summary: long(`summary ${i}`, 100),
  subcommands: Array.from({ length: 8 }, (_, j) => ({ usage: `/cmd${i} sub${j} [args]`, summary: long(`does ${j}`, 120), role: 'operator' as const })),
}));

const recordedChecks = Array.from({ length: 60 }, (_, i) => ({ id: `c${i}`, name: long(`Check ${i}`, 80), status: 'fail' as const, value: long('value', 200), fix: long('fix', 200), threshold: '50' }));

type Case = { surface?: 'message' | 'home'; payload: { text?: string; blocks: unknown[] } };
/** One entry per exported view function (file:function), each with its largest inputs. */
const CASES: Record<string, () => Case[]> = {
  'alert-action:renderAlertActionDone': () => (['ack', 'resolve', 'silence'] as const).flatMap((action) => [true, false].map((changed) => ({
    payload: alertAction.renderAlertActionDone({
      ok: true, groupId: 99999, status: 'acknowledged', changed, title: long('title', 500), silencedUntil: iso(1), acknowledgedBy: 'UOPS1', resolvedBy: 'UOPS1', silencedBy: 'UOPS1', escalationEnded: { round: 99, step: 3, at: iso(1) },
    }, action),
  }))),
  'alert-action:renderAlertActionRefused': () => [{ payload: alertAction.renderAlertActionRefused(long('reason', 2000)) }],
  'app-home:renderAppHome': () => [{ surface: 'home', payload: appHome.renderAppHome(bigDashboard(25)) }, { surface: 'home', payload: appHome.renderAppHome(dashboardFixture()) }],
  'app-home:renderAppHomeError': () => [{ surface: 'home', payload: appHome.renderAppHomeError('ref-123') }],
  'audit:renderAuditVerdict': () => [5, 60, 200].map((n) => ({ payload: audit.renderAuditVerdict(auditReport(n)) })),
  'audit:renderAuditRunning': () => [true, false].map((dryRun) => ({ payload: audit.renderAuditRunning({ dryRun }) })),
  'error:renderError': () => [{ payload: error.renderError({ message: long('message', 3500), reference: 'ref', hint: long('hint', 3500) }) }],
  'error:renderInternalError': () => [{ payload: error.renderInternalError('ref') }],
  'error:renderRefused': () => [{ payload: error.renderRefused({ command: '/mode live', role: 'approver', hint: long('hint', 3500) }) }],
  'error:renderWorking': () => [{ payload: error.renderWorking(long('what', 3500)) }],
  'help:renderHelp': () => [{ payload: help.renderHelp(helpCommands) }],
  'help:renderCommandUsage': () => [{ payload: help.renderCommandUsage(helpCommands[0]!, long('problem', 3500)) }],
  'kill:renderKillReply': () => [
    { payload: kill.renderKillReply({ ok: false, killId: 'k', alreadyKilled: false, state: 'written', incidentId: 4, checklist: [], flatten: null,
      cancel: { allConfirmed: false, venues: [{ venue: 'kraken', canceled: 1, confirmed: false, attempts: 3, survivors, errors: Array.from({ length: 50 }, () => long('error', 300)) }] } } as never) },
  ],
  'kill:renderIncident': () => [{ payload: kill.renderIncident(incident, items) }],
  'kill:renderChecklistAnswer': () => [items[0]!, items[2]!].map((i) => ({ payload: kill.renderChecklistAnswer({ ...i, requestId: 987654 }) })),
  'kill:renderChecklistTick': () => (['done', 'failed', 'pending'] as const).map((state) => ({
    payload: kill.renderChecklistTick({ ok: state === 'done', state, incidentId: 4, item: 'close_positions', alreadyDone: false, doneBy: 'UOPS1', doneAt: at, requestId: 12, summary: long('summary', 5000) }),
  })),
  'kill:renderCancelProgress': () => [{ payload: kill.renderCancelProgress(long('kraken: CancelAll (try 1) did not answer within 10 s.', 5000)) }],
  'kill:renderResume': () => [{ payload: kill.renderResume({ ok: true, lifted: true, haltedSince: at, auditRunId: 9, incidentId: 4, mode: 'paper', notRequired: [{ id: 'golive.criteria', value: long('3 critical alerts', 4000) }], notRequiredNote: long('Not required to resume in paper: golive.criteria', 4000) }) }],
  'mode-change:renderChangeRequest': () => [{
    payload: modeChange.renderChangeRequest({
      requestId: 7, requester: 'UOPER0001', reason: long('reason', 2000), fromMode: 'paper', toMode: 'live',
      audit: { passed: true, summary: long('summary', 500), auditRunId: 41 }, checks: recordedChecks as never,
      approvers: Array.from({ length: 40 }, (_, i) => `UAPPR${String(i).padStart(4, '0')}`), approvalsNeeded: 2, approvalEmoji: 'white_check_mark', rejectionEmoji: 'x', expiresAt: at,
    }),
  }],
  'mode-change:renderModeOutcome': () => [{
    payload: modeChange.renderModeOutcome({ requestId: 7, status: 'failed', toMode: 'live', title: long('title', 500), lines: Array.from({ length: 40 }, () => long('line', 200)),
      approvals: [{ user: 'UA1', at }, { user: 'UA2', at }] }),
  }],
  'mode-change:renderModeLiveReply': () => [false, true].map((opened) => ({
    payload: modeChange.renderModeLiveReply({
      ok: opened, opened, requestId: 7, expiresAt: iso(0), message: { channel: 'C0OPS', ts: '1.2' }, approvers: ['UA1', 'UA2'],
      audit: { passed: false, summary: long('summary', 300), auditRunId: 3, checks: recordedChecks as never },
    }),
  })),
  'mode-change:renderModePaperReply': () => [{ payload: modeChange.renderModePaperReply({ ok: true, changed: true, previousMode: 'live', requestId: 8, withdrawnRequests: Array.from({ length: 100 }, (_, i) => i) }) }],
  'mode-change:renderVoteFeedback': () => [{ payload: modeChange.renderVoteFeedback({ kind: 'ignored', requestId: 7, reason: long('reason', 3500) }, 'UA1', 2)! }],
  'mode-change:renderVoteRefused': () => [{ payload: modeChange.renderVoteRefused(long('reason', 3500)) }],
  'mode-status:renderModeStatus': () => [{ payload: modeStatus.renderModeStatus(statusResult() as never) }],
  'mode-status:renderGoLiveStatus': () => [{ payload: modeStatus.renderGoLiveStatus(statusResult() as never) }],
  'oncall:renderOncallWho': () => [{ payload: oncall.renderOncallWho(oncallShow()) }],
  'oncall:renderOncallSchedule': () => [{ payload: oncall.renderOncallSchedule(oncallShow()) }],
  'oncall:renderOncallOverride': () => [{ payload: oncall.renderOncallOverride({ ok: true, id: 3, userId: 'UDAVE', startsAt: iso(0), endsAt: iso(1), duration: '24h', warnings: [] }, 'UOPS1') }],
  'oncall:renderOncallOverrideClear': () => [{ payload: oncall.renderOncallOverrideClear({ ok: true, cleared: [{ id: 3, userId: 'UDAVE', startsAt: iso(0), endsAt: iso(1) }] }, 'UOPS1') }],
  'pause:renderPause': () => [{ payload: pause.renderPause({ ok: true, state: 'halted', pausedBy: 'UOPS1', pausedAt: at, reason: long('reason', 3500), halted: true, halt: { by: 'UOPS1', at, reason: long('halt', 3500) } }) }],
  'pause:renderUnpause': () => [{
    payload: pause.renderUnpause({ ok: false, state: 'halted', halt: { by: 'UOPS1', at, reason: long('halt', 3500) }, was: { by: 'UOPS1', at, reason: long('reason', 1500) },
      breach: { kind: 'max_drawdown', pausedFor: long('p', 500), breachAt: at, mode: 'paper', cleared: false, now: long('now', 1500) }, forced: true, forceReason: long('force', 1500), rearm: 'drawdown_and_daily' }),
  }],
  'runbook:renderRunbookMessage': () => (['go-live', 'incident'] as const).map((name) => ({ payload: runbook.renderRunbookMessage({ name, data: placeholderRunbookData() }) })),
  'runbook:renderGoLiveHelp': () => [{
    payload: runbook.renderGoLiveHelp({ name: 'go-live', data: { ...placeholderRunbookData(), audit: { status: 'ran', at: iso(0), actor: 'UOPS1', passed: false, summary: long('s', 200), thresholdRefusal: null,
      failing: Array.from({ length: 60 }, (_, i) => ({ name: long(`check ${i}`, 80), status: 'fail', detail: long('detail', 300) })) } } }, helpCommands),
  }],
  'stats:renderStats': () => [{ payload: stats.renderStats(statsReport()) }],
  'stats:renderStatsSummary': () => [{ payload: stats.renderStatsSummary({ kind: 'weekly', periodKey: '2026-W02', report: statsReport() }) }],
  'stats:renderNoChart': () => [{ payload: stats.renderNoChart(statsReport()) }],
  'trades:renderTrades': () => [{
    payload: trades.renderTrades({
      ok: true, at,
      open: Array.from({ length: 200 }, (_, i) => ({
        id: 100000 + i, symbol: 'BTC/USD', side: 'buy', quantity: '0.123456789', entryPrice: '50000.12345678', mark: { price: '49000.12345678' },
        unrealizedPnl: '-123.45678901', unrealizedPct: '-2.0001', ageSeconds: 86_400 * 30, strategy: long('strategy', 120), book: 'paper',
      })),
      totals: (['paper', 'live', 'replay'] as const).map((b) => ({ book: b, open: 200, costBasis: '1000000.12345678', unrealizedPnl: '-1234.5678', unmarked: 3 })),
      pendingExits: Array.from({ length: 200 }, (_, i) => ({
        requestId: 100000 + i, target: 'all', tradeIds: Array.from({ length: 500 }, (_, j) => 100000 + j), requestedBy: long('cli:someone', 200), status: 'pending', waitedMs: 1, ttlMs: 600_000, queued: long('queued 1s ago', 400),
      })),
      closed: Array.from({ length: 100 }, (_, i) => ({
        id: i, symbol: 'BTC/USD', quantity: '0.123456789', entryPrice: '50000.12345678', exitPrice: '49000.1', realizedPnl: '-12.3456', exitAt: at, strategy: long('strategy', 120), book: 'paper',
      })),
    } as never),
  }],
  'exit:renderExitConfirm': () => [{
    payload: exit.renderExitConfirm({
      ok: true, target: 'all', status: 'needs_confirmation', request: null, mode: 'live', paperSetAside: long('The bot is live: 200 open paper positions set aside', 2000),
      liveLeftOut: null, engineNote: long("The engine's lease is stale since", 4000),
      trades: Array.from({ length: 200 }, (_, i) => ({ id: 100000 + i, book: 'paper', strategy: long('strategy', 120), symbol: 'BTC/USD', quantity: '0.123456789', entryPrice: '50000.12345678' })),
    }, long('reason', 2000)),
  }],
  'exit:renderExitProgress': () => (['pending', 'done', 'failed'] as const).map((status) => ({
    payload: exit.renderExitProgress({
      ok: status === 'done', target: 'all', status, mode: 'paper', trades: [], paperSetAside: null, liveLeftOut: null, engineNote: long('No engine holds the lease', 4000),
      request: {
        requestId: 123456, status, joined: true, summary: long('summary', 3000), waitedMs: status === 'pending' ? 86_400_000 * 3 : null, ttlMs: 600_000, toldLater: true, queued: status === 'pending' ? long('queued 3d ago', 400) : null,
        results: Array.from({ length: 200 }, (_, i) => ({ tradeId: 100000 + i, ok: false, status: 'rejected' as const, message: long('Kraken said', 300), symbol: 'BTC/USD' })),
      },
    }, 'UOPERATOR1'),
  })),
  'exit:renderExitRequest': () => (['pending', 'done', 'failed'] as const).map((status) => ({
    payload: exit.renderExitRequest({
      target: 'all', engineNote: long('No engine holds the lease', 4000),
      request: {
        requestId: 123456, status, joined: true, summary: long('summary', 3000), waitedMs: status === 'pending' ? 86_400_000 * 3 : null, ttlMs: 600_000, toldLater: true, queued: status === 'pending' ? long('queued 3d ago', 400) : null,
        results: Array.from({ length: 200 }, (_, i) => ({ tradeId: 100000 + i, ok: false, status: 'rejected' as const, message: long('Kraken said', 300), symbol: 'BTC/USD' })),
      },
    }, 'UOPERATOR1'),
  })),
  'trades:renderBalance': () => [{
    payload: trades.renderBalance({
      ok: true, at, quote: 'USD', venue: long('the exchange at https://kraken.example', 300),
      paper: { seeded: true, openTrades: 200, value: '1000000.12', assets: Array.from({ length: 150 }, (_, i) => ({ asset: `ASSET${i}`, total: '123456.12345678', value: '1234.5678' })) },
      kraken: {
        status: 'ok', openTrades: 200, botManagedValue: '1000000', accountValue: '2000000',
        assets: Array.from({ length: 150 }, (_, i) => ({ asset: `ASSET${i}`, total: '123456.12345678', free: '1.1', used: '2.2', botManaged: '3.3', other: '4.4', shortfall: i % 2 === 0, value: '1234.5678' })),
      },
    } as never),
  }],
};

const modules: Record<string, Record<string, unknown>> = {
  'alert-action': alertAction, 'app-home': appHome, audit, error, exit, help, kill, 'mode-change': modeChange, 'mode-status': modeStatus,
  oncall, pause, runbook, stats, trades,
};

describe('Block Kit limits', () => {
  it('has a case with large inputs for every render function of every view file', async () => {
    const files = readdirSync(new URL('../../../src/slack/views/', import.meta.url)).filter((f) => f.endsWith('.ts')).map((f) => f.replace(/\.ts$/, ''));
    const viewFiles = [];
    for (const file of files) {
      const mod = (modules[file] ?? (await import(`../../../src/slack/views/${file}.ts`))) as Record<string, unknown>;
      const renders = Object.keys(mod).filter((k) => /^render[A-Z]/.test(k) && typeof mod[k] === 'function');
      if (renders.length > 0) viewFiles.push(file);
      for (const name of renders) expect(CASES, `${file}:${name} needs a case here`).toHaveProperty([`${file}:${name}`]);
    }
    expect(Object.keys(modules).sort()).toEqual(viewFiles.sort());
  });

  for (const [name, build] of Object.entries(CASES)) {
    it(`${name} stays within the limits, with and without the badge`, () => {
      for (const { surface = 'message', payload } of build()) {
        expect(blockKitProblems(payload, surface), name).toEqual([]);
        if (surface === 'message') {
          const badged = withBadge(payload as SlackMessage, { mode: 'live', halted: true, tradingState: 'halted' });
          expect(blockKitProblems(badged, surface), `${name} with badge`).toEqual([]);
        }
      }
    });
  }

  it('keeps alert messages within the limits with huge details and titles', () => {
    const details = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`key${i}`, long('v', 2000)]));
    const group = alertGroupRow({ title: long('title', 3000), fingerprint: long('fp', 400), count: 123456 });
    for (const status of ['open', 'acknowledged', 'resolved'] as const) {
      const m = parentMessage({ ...group, status, acknowledgedBy: 'UOPS1', acknowledgedAt: at, silencedUntil: new Date(iso(1)), silencedBy: 'UOPS1' }, alertEventRow({ details }), at);
      expect(blockKitProblems(m), status).toEqual([]);
    }
  });
});

describe('long lists', () => {
  it('/oncall schedule for 26 weeks splits the shifts over sections instead of building one over 3,000 characters, losing none', () => {
    const m = oncall.renderOncallSchedule(oncallShow());
    const texts = (m.blocks as Array<{ text?: { text: string } }>).map((b) => b.text?.text ?? '');
    for (const t of texts) expect(t.length).toBeLessThanOrEqual(BLOCK_KIT_LIMITS.text);
    const shiftLines = texts.join('\n').split('\n').filter((l) => l.startsWith('• ') && l.includes(' → ') && !l.includes(' from '));
    expect(shiftLines).toHaveLength(SHIFTS);
    expect(texts.filter((t) => t.startsWith('*Rotation shifts*'))).toHaveLength(1);
    expect(texts.join('').length).toBeGreaterThan(BLOCK_KIT_LIMITS.text); // the list really is long
  });

  it('sectionsOf keeps every line and puts each section within 3,000 characters', () => {
    const lines = Array.from({ length: 100 }, (_, i) => `• line ${i} ${'x'.repeat(90)}`);
    const blocks = sectionsOf('*Heading*', lines) as Array<{ text: { text: string } }>;
    expect(blocks.length).toBeGreaterThan(3);
    for (const b of blocks) expect(b.text.text.length).toBeLessThanOrEqual(3000);
    expect(blocks.map((b) => b.text.text).join('\n').split('\n').filter((l) => l.startsWith('• '))).toEqual(lines);
  });

  it('listSection shows what fits and says how many more there are and where to see them', () => {
    const lines = Array.from({ length: 100 }, (_, i) => `• alert ${i} ${'y'.repeat(90)}`);
    const block = listSection('*Open alerts (300)*', lines, { total: 300, more: '`ctb alerts list`' }) as { text: { text: string } };
    expect(block.text.text.length).toBeLessThanOrEqual(3000);
    const shown = block.text.text.split('\n').filter((l) => l.startsWith('• ')).length;
    expect(block.text.text).toMatch(new RegExp(`_…and ${300 - shown} more: \`ctb alerts list\`_$`));
    expect(shown).toBeGreaterThan(20);
  });

  it('the checker itself catches a section over 3,000 characters, too many blocks, and too many actions', () => {
    expect(blockKitProblems({ text: 'x', blocks: [{ type: 'section', text: { type: 'mrkdwn', text: 'x'.repeat(3095) } }] })).toEqual(['block 0 (section): text has 3095 characters (limit 3000)']);
    expect(blockKitProblems({ text: 'x', blocks: Array.from({ length: 51 }, () => ({ type: 'divider' })) })).toEqual(['51 blocks (limit 50 in a message)']);
    expect(blockKitProblems({ text: 'x', blocks: Array.from({ length: 101 }, () => ({ type: 'divider' })) }, 'home')).toEqual(['101 blocks (limit 100 in a home)']);
    const buttons = Array.from({ length: 26 }, (_, i) => ({ type: 'button', action_id: `a${i}`, text: { type: 'plain_text', text: 'b' }, value: 'v' }));
    expect(blockKitProblems({ text: 'x', blocks: [{ type: 'actions', elements: buttons }] })).toEqual(['block 0 (actions): 26 elements (1 to 25)']);
  });
});
