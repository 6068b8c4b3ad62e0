// Owns answering "has the breach that paused entries cleared?" from the ledger, so any process (the
// CLI, a web replica) can judge an unpause the same way: the breach is the latest risk event that
// paused entries; its measure now comes from the latest equity snapshots of that book.
import type { Config } from '../config/env.js';
import type { Db } from '../db/client.js';
import { latestRearm, latestRiskEvent, type Rearm } from '../db/queries/risk-events.js';
import type { BotState } from '../db/schema/index.js';
import { firstSnapshotAfterId, firstSnapshotSince, latestSnapshot } from '../db/queries/ledger-snapshots.js';
import type { EquitySnapshot } from '../db/schema/index.js';
import type { Mode } from './bot-state.js';

/** The actor the risk guard pauses entries as. */
export const RISK_GUARD_ACTOR = 'system:risk-guard';

export interface RiskPauseStatus {
  kind: 'max_drawdown' | 'daily_loss' | 'unknown';
  /** What the guard saw: "drawdown 10.50% reached the 10% limit at 2026-…". */
  pausedFor: string;
  breachAt: Date | null;
  /** The book whose equity breached (null when the breach is not recorded). */
  mode: Mode | null;
  cleared: boolean;
  /** What the ledger says now, in words. */
  now: string;
}

/**
 * What judging a breach reads: the ledger and the guard's two limits. No process clock: a new UTC
 * day clears a daily loss once the engine's snapshots say its day began.
 */
export interface RiskPauseDeps {
  db: Db;
  config: Pick<Config, 'RISK_MAX_DRAWDOWN_PCT' | 'RISK_DAILY_LOSS_PCT'>;
}

const DAY_MS = 86_400_000;

/**
 * The snapshot whose equity opens the day for the daily loss limit: the day's first, or after a
 * forced unpause re-armed the guard, the first the engine wrote once it had taken the re-arm in (when
 * that is today). Which snapshots come after the re-arm is judged by the database's order of writing,
 * not by times from processes whose clocks may differ: before the engine takes a re-arm in, none does
 * (undefined: the opening is the equity at the engine's next mark).
 */
export async function dayOpeningSnapshot(db: Db, mode: Mode, rearm: Rearm | undefined, dayStart: Date): Promise<EquitySnapshot | undefined> {
  if (!rearm) return firstSnapshotSince(db, mode, dayStart);
  if (rearm.followedSnapshotId === null) return undefined;
  const after = await firstSnapshotAfterId(db, mode, rearm.followedSnapshotId);
  if (!after || after.at >= dayStart) return after;
  return firstSnapshotSince(db, mode, dayStart);
}

const pct = (v: number) => `${v.toFixed(2)}%`;

export async function riskPauseStatus(ctx: RiskPauseDeps, state: Pick<BotState, 'entriesPaused' | 'entriesPausedBy' | 'entriesPausedReason'>): Promise<RiskPauseStatus | null> {
  if (!state.entriesPaused) return null;
  const event = await latestRiskEvent(ctx.db);
  // Pauses written before entries_paused_by existed name nobody: the latest risk event tells.
  const byGuard = state.entriesPausedBy === RISK_GUARD_ACTOR || (state.entriesPausedBy === null && event?.action === 'entries_paused');
  if (!byGuard) return null;
  const breach = event?.action === 'entries_paused' ? event : await latestRiskEvent(ctx.db, 'entries_paused');
  if (!breach || (breach.kind !== 'max_drawdown' && breach.kind !== 'daily_loss')) {
    return { kind: 'unknown', pausedFor: state.entriesPausedReason ?? 'a risk breach', breachAt: breach?.at ?? null, mode: null, cleared: false, now: 'the breach that paused entries is not recorded in the risk events' };
  }
  const mode = ((breach.details as { mode?: Mode }).mode ?? 'paper') as Mode;
  const pausedFor = `${state.entriesPausedReason ?? breach.kind} at ${breach.at.toISOString()}`;
  const latest = await latestSnapshot(ctx.db, mode);
  if (breach.kind === 'max_drawdown') {
    const limit = ctx.config.RISK_MAX_DRAWDOWN_PCT;
    if (!latest || latest.at <= breach.at) return { kind: 'max_drawdown', pausedFor, breachAt: breach.at, mode, cleared: false, now: `no equity snapshot of the ${mode} book since the breach` };
    const dd = Number(latest.drawdownPct);
    return { kind: 'max_drawdown', pausedFor, breachAt: breach.at, mode, cleared: dd < limit, now: `drawdown ${pct(dd)} at ${latest.at.toISOString()} (limit ${limit}%)` };
  }
  // daily_loss: a new UTC day starts a new daily budget — the engine's day, which its clock decides
  // (risk-guard.ts: a mark's time) and its latest snapshot of the book is stamped by; never this
  // reader's clock, which may be minutes off the engine's around midnight. A day the engine has not
  // marked yet (just past midnight, or no engine running) has not begun for the guard either.
  if (!latest || latest.at <= breach.at) return { kind: 'daily_loss', pausedFor, breachAt: breach.at, mode, cleared: false, now: `no equity snapshot of the ${mode} book since the breach` };
  const dayStart = new Date(Math.floor(latest.at.getTime() / DAY_MS) * DAY_MS);
  if (breach.at < dayStart) return { kind: 'daily_loss', pausedFor, breachAt: breach.at, mode, cleared: true, now: `a new day began at ${dayStart.toISOString()}` };
  // A forced unpause earlier today re-armed the day's opening equity: today's loss counts from it.
  const rearm = await latestRearm(ctx.db, mode);
  const open = await dayOpeningSnapshot(ctx.db, mode, rearm, dayStart);
  if (!open) return { kind: 'daily_loss', pausedFor, breachAt: breach.at, mode, cleared: false, now: `no equity snapshot of the ${mode} book since the breach` };
  const first = Number(open.equity);
  const loss = first > 0 ? ((first - Number(latest.equity)) / first) * 100 : 0;
  const limit = ctx.config.RISK_DAILY_LOSS_PCT;
  return { kind: 'daily_loss', pausedFor, breachAt: breach.at, mode, cleared: loss < limit, now: `today's loss ${pct(Math.max(0, loss))} at ${latest.at.toISOString()} (limit ${limit}%)` };
}
