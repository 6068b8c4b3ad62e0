// Reads what an operator needs to know about the engine's mode right now: the mode it trades in,
// the mode the database asks for, whether the process is armed, halted or pausing entries, and
// the latest go-live audit verdict. Read-only.
import type { AppContext } from '../app/context.js';
import { latestAuditRun } from './audit/store.js';
import { effectiveMode, getBotState, type Mode } from './bot-state.js';
import { describeTradingState, type TradingStateInfo } from './trading-state.js';

export interface AuditVerdict {
  at: Date;
  passed: boolean;
  dryRun: boolean;
  mode: Mode;
  summary: string;
  actor: string;
}

export interface ModeStatus {
  mode: Mode;
  requestedMode: Mode;
  armed: boolean;
  halted: boolean;
  haltedReason: string | null;
  haltedAt: Date | null;
  haltedBy: string | null;
  entriesPaused: boolean;
  entriesPausedReason: string | null;
  /** active | reducing | halted, with who set it, why and when. */
  tradingState: TradingStateInfo;
}

export async function readModeStatus(ctx: Pick<AppContext, 'db' | 'config'>): Promise<ModeStatus> {
  const state = await getBotState(ctx.db);
  return {
    mode: effectiveMode(state, ctx.config.IS_LIVE),
    requestedMode: state.mode,
    armed: ctx.config.IS_LIVE,
    halted: state.halted,
    haltedReason: state.haltedReason,
    haltedAt: state.haltedAt,
    haltedBy: state.haltedBy,
    entriesPaused: state.entriesPaused,
    entriesPausedReason: state.entriesPausedReason,
    tradingState: describeTradingState(state),
  };
}

/** The most recent go-live audit (the audit store's latest run), or null when none has run yet. */
export async function latestAuditVerdict(ctx: Pick<AppContext, 'db'>): Promise<AuditVerdict | null> {
  const row = await latestAuditRun(ctx.db);
  if (!row) return null;
  return { at: row.at, passed: row.passed, dryRun: row.dryRun, mode: row.mode, summary: row.summary, actor: row.actor };
}
