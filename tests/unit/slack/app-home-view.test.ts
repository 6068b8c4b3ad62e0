// The App Home tab is a pure function of the dashboard data: tested on its JSON.
import { describe, expect, it } from 'vitest';
import type { Dashboard } from '../../../src/services/dashboard/read-dashboard.js';
import { renderAppHome, renderAppHomeError } from '../../../src/slack/views/app-home.js';

const date = (iso: string) => `<!date^${new Date(iso).getTime() / 1000}^{date_short_pretty} {time}|${iso}>`;

const engine: Dashboard['mode']['engine'] = {
  state: 'running', holderId: 'bot-1:4242:ab12cd34', host: 'bot-1', pid: 4242, role: 'all', feed: 'kraken', armed: false, hasKrakenKeys: false,
  acquiredAt: '2026-01-05T09:00:00.000Z', heartbeatAt: '2026-01-05T11:59:57.000Z', heartbeatAgeMs: 3000, staleSince: null, takenOverFrom: null, waiting: null, waitingKind: null, waitingStateVersion: null,
  renewalOverdue: false, renewEveryMs: 5000, staleAt: '2026-01-05T12:00:12.000Z',
};
const shell: Dashboard['mode']['shell'] = { armed: false, hasKrakenKeys: false };
const reconciliation: Dashboard['mode']['reconciliation'] = { blocked: false, reconciledThrough: null, at: null, cause: null, pending: false, takenOverFrom: null, differences: [] };

const dashboard = (over: Partial<Dashboard> = {}): Dashboard => ({
  at: '2026-01-05T12:00:00.000Z',
  todayFrom: '2026-01-05T00:00:00.000Z',
  mode: {
    mode: 'paper', requestedMode: 'paper', stateVersion: 1, armed: false, halted: false, haltedReason: null, haltedAt: null, haltedBy: null,
    entriesPaused: false, entriesPausedReason: null, tradingState: { state: 'active', reason: null, by: null, at: null, entriesPaused: false }, engine, shell, reconciliation, liveWithdrawn: null, liveLeftOpen: null,
  },
  books: [
    { book: 'paper', equity: { latest: '10012.5', at: '2026-01-05T11:45:00.000Z' }, today: { realized: '12.5', fees: '0.5', closed: 3, wins: 2, losses: 1 }, unrealized: '-1.25', open: 2 },
    { book: 'live', equity: null, today: { realized: '0', fees: '0', closed: 0, wins: 0, losses: 0 }, unrealized: '0', open: 0 },
    { book: 'replay', equity: null, today: { realized: '0', fees: '0', closed: 0, wins: 0, losses: 0 }, unrealized: '0', open: 0 },
  ],
  positions: {
    total: 12,
    shown: [
      { id: 7, book: 'paper', strategy: 'ma-cross', symbol: 'BTC/USD', quantity: '0.01', entryPrice: '50000', entryAt: '2026-01-05T11:00:00.000Z' },
      { id: 6, book: 'paper', strategy: 'momentum <fast>', symbol: 'ETH/USD', quantity: '0.5', entryPrice: '3000', entryAt: '2026-01-05T10:00:00.000Z' },
    ],
  },
  onCall: { primary: 'UONCALL1', via: 'rotation', next: 'UNEXT2', until: '2026-01-12T09:00:00.000Z' },
  alerts: {
    total: 2,
    shown: [
      { id: 3, severity: 'critical', title: 'Engine heartbeat stale', status: 'open', count: 4, lastAt: '2026-01-05T11:58:00.000Z', acknowledgedBy: null, silencedUntil: null, test: false, link: null },
      { id: 2, severity: 'warning', title: 'Kraken 5xx & retries', status: 'acknowledged', count: 1, lastAt: '2026-01-05T11:00:00.000Z', acknowledgedBy: 'UOPS1', silencedUntil: null, test: false, link: null },
    ],
  },
  ...over,
});

type Block = { type: string; text?: { text: string }; fields?: Array<{ text: string }>; elements?: Array<{ text: string }> };
const blockTexts = (blocks: unknown[]) => (blocks as Block[]).map((b) => b.text?.text ?? b.fields?.map((f) => f.text).join(' | ') ?? b.elements?.map((e) => e.text).join(' ') ?? b.type);

describe('App Home view', () => {
  it('shows mode, halt state, equity and today\'s PnL, positions, on-call and open alerts under the badge', () => {
    const view = renderAppHome(dashboard());
    expect(view.type).toBe('home');
    const t = blockTexts(view.blocks);
    expect(t).toEqual([
      ':page_facing_up: *PAPER* — simulated fills',
      'crypto-trading-bot',
      ':page_facing_up: *PAPER* — simulated fills on real prices',
      `*Mode*\npaper | *Halted*\nno | *Armed (IS_LIVE)*\nno | *Requested mode*\npaper | *Engine*\n\`bot-1:4242\` (all, feed kraken) — not armed, no Kraken keys, heartbeat ${date('2026-01-05T11:59:57.000Z')} (3s ago); engine trading now | *Trading state*\n:large_green_circle: *active* — entries and exits`,
      'divider',
      `*Equity and today's PnL* (since ${date('2026-01-05T00:00:00.000Z')})`,
      `*Paper*\nEquity 10,012.50 (at ${date('2026-01-05T11:45:00.000Z')})\nToday +12.50 realised, 3 closed (2W/1L), fees 0.50\n2 open, unrealised -1.25 | *Live*\nEquity — (no snapshot yet)\nToday 0.00 realised, 0 closed, fees 0.00\nno open positions`,
      `*Open positions (12)*\n• *BTC/USD* 0.01 @ 50,000.00 — ma-cross, paper, since ${date('2026-01-05T11:00:00.000Z')}\n• *ETH/USD* 0.5 @ 3,000.00 — momentum &lt;fast&gt;, paper, since ${date('2026-01-05T10:00:00.000Z')}\n_…and 10 more: \`ctb stats\`_`,
      'divider',
      `*On call*\n<@UONCALL1> (rotation, until ${date('2026-01-12T09:00:00.000Z')})\nNext: <@UNEXT2>`,
      `*Open alerts (2)*\n:rotating_light: Engine heartbeat stale ×4 — *not acknowledged* · last ${date('2026-01-05T11:58:00.000Z')}\n:warning: Kraken 5xx &amp; retries — acknowledged by <@UOPS1> · last ${date('2026-01-05T11:00:00.000Z')}`,
      `Updated ${date('2026-01-05T12:00:00.000Z')} — refreshed each time you open this tab · \`/golive status\` · \`/stats\` · \`/oncall\``,
    ]);
  });

  it('reads amounts as the terminal does: equity and PnL to the cent with separators and a sign, sizes as held, — when unmarked', () => {
    const t = blockTexts(renderAppHome(dashboard({
      books: [
        { book: 'paper', equity: { latest: '1234567.891', at: '2026-01-05T11:45:00.000Z' }, today: { realized: '8797.1234567', fees: '1.2345678', closed: 1, wins: 1, losses: 0 }, unrealized: '-0.004', open: 1 },
        { book: 'live', equity: { latest: '8797.1234567', at: '2026-01-05T11:45:00.000Z' }, today: { realized: '-300.0332553', fees: '0', closed: 1, wins: 0, losses: 1 }, unrealized: null, open: 2 },
      ],
      positions: { total: 1, shown: [{ id: 9, book: 'paper', strategy: 'ma-cross', symbol: 'BTC/USD', quantity: '0.01538460', entryPrice: '68019.23764718', entryAt: '2026-01-05T11:00:00.000Z' }] },
    })).blocks);
    expect(t[6]).toBe(
      `*Paper*\nEquity 1,234,567.89 (at ${date('2026-01-05T11:45:00.000Z')})\nToday +8,797.12 realised, 1 closed (1W/0L), fees 1.23\n1 open, unrealised 0.00`
      + ` | *Live*\nEquity 8,797.12 (at ${date('2026-01-05T11:45:00.000Z')})\nToday -300.03 realised, 1 closed (0W/1L), fees 0.00\n2 open, unrealised — (no fresh marks)`,
    );
    expect(t[7]).toBe(`*Open positions (1)*\n• *BTC/USD* 0.0153846 @ 68,019.24 — ma-cross, paper, since ${date('2026-01-05T11:00:00.000Z')}`);
  });

  it('shows a halted LIVE bot loudly, with who halted it and why', () => {
    const view = renderAppHome(dashboard({
      mode: { mode: 'live', requestedMode: 'live', stateVersion: 1, armed: true, halted: true, haltedReason: 'exchange outage', haltedAt: new Date('2026-01-05T11:30:00Z'), haltedBy: 'UOPS1', entriesPaused: true, entriesPausedReason: 'drawdown guard',
        tradingState: { state: 'halted', reason: 'exchange outage', by: 'UOPS1', at: new Date('2026-01-05T11:30:00Z'), entriesPaused: true }, engine: { ...engine, armed: true, hasKrakenKeys: true }, shell, reconciliation, liveWithdrawn: null, liveLeftOpen: null },
    }));
    const t = blockTexts(view.blocks);
    expect(t[0]).toBe(':red_circle: *LIVE* — real money · :octagonal_sign: *HALTED*');
    expect(t[3]).toContain(`*Halted*\n:octagonal_sign: *HALTED* — exchange outage by <@UOPS1> at ${date('2026-01-05T11:30:00.000Z')}`);
    expect(t[3]).toContain(`*Trading state*\n:octagonal_sign: *halted* — no orders at all (kill switch)\nHalted by <@UOPS1> ${date('2026-01-05T11:30:00.000Z')}: exchange outage\n_entries also paused: reducing after a resume_`);
  });

  it('shows a reducing bot: no new entries, who paused and why, under a REDUCING badge', () => {
    const at = new Date('2026-01-05T11:40:00Z');
    const view = renderAppHome(dashboard({
      mode: { mode: 'paper', requestedMode: 'paper', stateVersion: 1, armed: false, halted: false, haltedReason: null, haltedAt: null, haltedBy: null, entriesPaused: true, entriesPausedReason: 'CPI print',
        tradingState: { state: 'reducing', reason: 'CPI print', by: 'UOPS1', at, entriesPaused: true }, engine, shell, reconciliation, liveWithdrawn: null, liveLeftOpen: null },
    }));
    const t = blockTexts(view.blocks);
    expect(t[0]).toBe(':page_facing_up: *PAPER* — simulated fills · :double_vertical_bar: *REDUCING* — no new entries');
    expect(t[3]).toContain(`*Trading state*\n:double_vertical_bar: *reducing* — no new entries; exits and stop-losses continue\nPaused by <@UOPS1> ${date('2026-01-05T11:40:00.000Z')}: CPI print`);
  });

  it('says why the mode is paper when an engine took the lease unarmed and withdrew the live approval', () => {
    const base = dashboard().mode;
    const t = blockTexts(renderAppHome(dashboard({ mode: { ...base, liveWithdrawn: { requestId: 12, at: '2026-01-05T11:00:00.000Z', by: 'system:engine-lease', reason: 'engine bot-1:4242:ab12cd34 took the lease without IS_LIVE at 2026-01-05T11:00:00.000Z; going live again needs /mode live and two approvals' } } })).blocks);
    expect(t).toContain(':page_facing_up: *PAPER* — live approval withdrawn (#12): engine bot-1:4242:ab12cd34 took the lease without IS_LIVE at 2026-01-05T11:00:00.000Z; going live again needs /mode live and two approvals');
  });

  it('says plainly when nothing is open and nobody is on call', () => {
    const t = blockTexts(renderAppHome(dashboard({
      positions: { total: 0, shown: [] }, alerts: { total: 0, shown: [] }, onCall: { primary: null, via: 'nobody', next: null, until: null },
    })).blocks);
    expect(t).toContain('*Open positions*\nNone.');
    expect(t).toContain('*Open alerts*\nNone.');
    expect(t).toContain('*On call*\nNobody is on call: set a rotation with `ctb oncall set --members U…,U…`.');
  });

  it('shows a reference id when the dashboard could not be read', () => {
    expect(JSON.stringify(renderAppHomeError('E-ABC234'))).toContain('Reference `E-ABC234`');
  });
});
