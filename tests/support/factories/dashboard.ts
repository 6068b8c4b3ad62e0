// An App Home dashboard with overrides, and one with long lists, for the view tests.
import type { Dashboard } from '../../../src/services/dashboard/read-dashboard.js';

/** The engine's holder as the mode status shows it: a running, unarmed engine. */
export const engineFixture = (over: Partial<Dashboard['mode']['engine']> = {}): Dashboard['mode']['engine'] => ({
  state: 'running', holderId: 'bot-1:4242:ab12cd34', host: 'bot-1', pid: 4242, role: 'all', feed: 'kraken', armed: false, hasKrakenKeys: false,
  acquiredAt: '2026-01-05T09:00:00.000Z', heartbeatAt: '2026-01-05T11:59:57.000Z', heartbeatAgeMs: 3000, staleSince: null, takenOverFrom: null, waiting: null, waitingKind: null, waitingStateVersion: null,
  renewalOverdue: false, renewEveryMs: 5000, staleAt: '2026-01-05T12:00:12.000Z', ...over,
});

export const dashboardFixture = (over: Partial<Dashboard> = {}): Dashboard => ({
  at: '2026-01-05T12:00:00.000Z',
  todayFrom: '2026-01-05T00:00:00.000Z',
  mode: {
    mode: 'paper', requestedMode: 'paper', stateVersion: 1, armed: false, halted: false, haltedReason: null, haltedAt: null, haltedBy: null,
    entriesPaused: false, entriesPausedReason: null, tradingState: { state: 'active', reason: null, by: null, at: null, entriesPaused: false },
    engine: engineFixture(), shell: { armed: false, hasKrakenKeys: false }, reconciliation: { blocked: false, reconciledThrough: null, at: null, cause: null, pending: false, takenOverFrom: null, differences: [] },
    liveWithdrawn: null, liveLeftOpen: null,
  },
  books: [
    { book: 'paper', equity: { latest: '10012.5', at: '2026-01-05T11:45:00.000Z' }, today: { realized: '12.5', fees: '0.5', closed: 3, wins: 2, losses: 1 }, unrealized: '-1.25', open: 2 },
    { book: 'live', equity: null, today: { realized: '0', fees: '0', closed: 0, wins: 0, losses: 0 }, unrealized: '0', open: 0 },
  ],
  positions: { total: 0, shown: [] },
  onCall: { primary: 'UONCALL1', via: 'rotation', next: 'UNEXT2', until: '2026-01-12T09:00:00.000Z' },
  alerts: { total: 0, shown: [] },
  ...over,
});

/** Everything at the most the dashboard reads (its caps), with long titles and names. */
export function bigDashboard(n = 25): Dashboard {
  const long = (s: string) => `${s} ${'x'.repeat(180)}`;
  return dashboardFixture({
    mode: {
      mode: 'live', requestedMode: 'live', stateVersion: 1, armed: true, halted: true, haltedReason: long('exchange outage'), haltedAt: new Date('2026-01-05T11:30:00Z'), haltedBy: 'UOPS1',
      entriesPaused: true, entriesPausedReason: long('drawdown'),
      tradingState: { state: 'halted', reason: long('exchange outage'), by: 'UOPS1', at: new Date('2026-01-05T11:30:00Z'), entriesPaused: true },
      engine: engineFixture({ host: long('bot-host'), armed: true, hasKrakenKeys: true }), shell: { armed: false, hasKrakenKeys: false }, reconciliation: { blocked: false, reconciledThrough: null, at: null, cause: null, pending: false, takenOverFrom: null, differences: [] },
      liveWithdrawn: null, liveLeftOpen: null,
    },
    positions: {
      total: 400,
      shown: Array.from({ length: n }, (_, i) => ({
        id: i, book: 'paper' as const, strategy: long(`strategy-${i}`), symbol: 'BTC/USD', quantity: '0.123456789', entryPrice: '50000.12345678', entryAt: '2026-01-05T11:00:00.000Z',
      })),
    },
    alerts: {
      total: 300,
      shown: Array.from({ length: n }, (_, i) => ({
        id: i, severity: 'critical' as const, title: long(`Engine heartbeat stale ${i}`), status: 'acknowledged' as const, count: 1000 + i,
        lastAt: '2026-01-05T11:58:00.000Z', acknowledgedBy: 'UOPS1', silencedUntil: '2026-01-05T14:00:00.000Z', test: false, link: null,
      })),
    },
  });
}
