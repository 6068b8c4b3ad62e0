// Owns what the App Home dashboard shows, as plain data: the mode (and whether the process is armed
// or halted), equity and today's PnL per book (UTC day), the open positions, who is on call now and
// next, and the open alerts. Read-only; the Slack view renders it (src/slack/views/app-home.ts).
import type { Clock } from '../../clock.js';
import type { Config } from '../../config/env.js';
import type { Db } from '../../db/client.js';
import { openAlertGroups, openPositions } from '../../db/queries/dashboard.js';
import { readModeStatus, type ModeStatus } from '../mode-status.js';
import { whoIsOnCall } from '../oncall/who-is-on-call.js';
import { computeStats, money, type BookName } from '../stats/compute-stats.js';

export const DASHBOARD_LIST_LIMIT = 10;

export interface DashboardBook {
  book: BookName;
  /** Latest equity snapshot, or null before the first one. */
  equity: { latest: string; at: string } | null;
  today: { realized: string; fees: string; closed: number; wins: number; losses: number };
  /** Open positions at the latest snapshot's marks; null when no fresh mark covers them. */
  unrealized: string | null;
  open: number;
}

export interface Dashboard {
  at: string;
  /** Start of the UTC day "today" counts from. */
  todayFrom: string;
  mode: ModeStatus;
  books: DashboardBook[];
  positions: {
    total: number;
    shown: Array<{ id: number; book: BookName; strategy: string; symbol: string; quantity: string; entryPrice: string; entryAt: string }>;
  };
  onCall: {
    primary: string | null;
    via: 'override' | 'rotation' | 'nobody';
    next: string | null;
    until: string | null;
  };
  alerts: {
    total: number;
    shown: Array<{ id: number; severity: 'info' | 'warning' | 'critical'; title: string; status: 'open' | 'acknowledged'; count: number; lastAt: string; acknowledgedBy: string | null; silencedUntil: string | null; test: boolean; link: { channel: string; ts: string } | null }>;
  };
}

export function startOfUtcDay(at: Date): Date {
  return new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate()));
}

/** What the dashboard reads: the mode, today's stats, positions, on-call and open alerts. */
export interface DashboardDeps {
  db: Db;
  config: Config;
  clock: Clock;
}

export async function readDashboard(ctx: DashboardDeps): Promise<Dashboard> {
  const now = ctx.clock.now();
  const from = startOfUtcDay(now);
  const [mode, stats, positions, onCall, alerts] = await Promise.all([
    readModeStatus(ctx),
    computeStats(ctx, { window: { from, to: now }, period: 'custom', recentLimit: 0 }),
    openPositions(ctx.db, DASHBOARD_LIST_LIMIT),
    whoIsOnCall(ctx.db), // the database's clock: every replica shows the same person
    openAlertGroups(ctx.db, DASHBOARD_LIST_LIMIT),
  ]);
  return {
    at: now.toISOString(),
    todayFrom: from.toISOString(),
    mode,
    books: stats.books.map((b) => ({
      book: b.book,
      equity: b.equity ? { latest: b.equity.latest, at: b.equity.at } : null,
      today: { realized: b.pnl.realized, fees: b.pnl.fees, closed: b.trades.closed, wins: b.trades.wins, losses: b.trades.losses },
      unrealized: b.pnl.unrealized,
      open: b.trades.open,
    })),
    positions: {
      total: positions.total,
      shown: positions.rows.map((p) => ({
        id: p.id, book: p.feed === 'replay' ? 'replay' : p.mode, strategy: p.strategy, symbol: p.symbol,
        quantity: money(p.quantity), entryPrice: money(p.entryPrice), entryAt: p.entryAt.toISOString(),
      })),
    },
    onCall: { primary: onCall.primary, via: onCall.via, next: onCall.next, until: (onCall.override?.endsAt ?? onCall.shift?.endsAt)?.toISOString() ?? null },
    alerts: {
      total: alerts.total,
      shown: alerts.rows.map((a) => ({
        id: a.id, severity: a.severity, title: a.title, status: a.status === 'acknowledged' ? 'acknowledged' : 'open', count: a.count,
        lastAt: a.lastAt.toISOString(), acknowledgedBy: a.acknowledgedBy, test: a.test,
        silencedUntil: a.silencedUntil ? a.silencedUntil.toISOString() : null, // a silence that ended is no silence (judged by the database)
        link: a.slackChannel && a.slackTs ? { channel: a.slackChannel, ts: a.slackTs } : null,
      })),
    },
  };
}
