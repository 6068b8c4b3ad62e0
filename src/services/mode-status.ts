// Reads what an operator needs to know about the engine's mode right now: the mode the running engine
// trades in (from the engine lease: its holder's own arming, never the reading shell's), the mode the
// database asks for, halted or pausing entries, who holds the engine and how fresh its heartbeat is,
// what the reading shell itself would do, and the latest go-live audit verdict. Read-only.
import type { BotState } from '../db/schema/index.js';
import { readStatusRows, type StatusRows } from '../db/queries/mode-status.js';
import type { AuditRunHeader } from './audit/store.js';
import { gatePolicyOf, thresholdStanding, type GatePolicy } from './audit/gate-policy.js';
import type { ThresholdStanding } from '../domain/golive-thresholds.js';
import { getBotState, type Mode } from './bot-state.js';
import { engineMode, holderArmed, type EngineMode } from '../domain/engine-mode.js';
import { describeTradingState, type TradingStateInfo } from '../domain/trading-state.js';
import type { EngineHolderView } from '../domain/engine-holder.js';
import { holderViewHere, shellView, type EngineHolderDeps, type ShellDeps, type ShellView } from './engine-lease/holder-view.js';
import { standingOf, type ReconciliationStanding } from '../domain/reconciliation-standing.js';
import { liveWithdrawnOf, type LastSwitch, type LiveWithdrawn } from '../domain/live-withdrawal.js';
import { liveLeftOpenOf, livePositionText, type LiveLeftOpen } from '../domain/live-left-open.js';

export interface AuditVerdict {
  id: number;
  at: Date;
  passed: boolean;
  dryRun: boolean;
  /** The engine's mode the run was made in (unknown: a stale armed holder might have resumed LIVE trading). */
  mode: EngineMode;
  summary: string;
  actor: string;
  /**
   * Why resume and /mode live would refuse this run under the gate policy stored now (its thresholds
   * looser, or none recorded: thresholdRefusal, the rule they apply); null when they accept them.
   */
  thresholdRefusal: ThresholdStanding | null;
}

export interface ModeStatus {
  /**
   * What the engine trades in (domain/engine-mode.ts): live only when a running engine is armed, the
   * database says live and nothing halts it; unknown when its lease is stale and that held for its holder.
   */
  mode: EngineMode;
  requestedMode: Mode;
  /** bot_state's version, read with the lease row: a gate's reason the row names is true of one version only. */
  stateVersion: number;
  /** Whether the lease holder is armed (IS_LIVE=true), running or stale (it trades again if it wakes); false when none holds it. */
  armed: boolean;
  halted: boolean;
  haltedReason: string | null;
  haltedAt: Date | null;
  haltedBy: string | null;
  entriesPaused: boolean;
  entriesPausedReason: string | null;
  /** active | reducing | halted, with who set it, why and when. */
  tradingState: TradingStateInfo;
  /** The process that runs the engine (engine lease), or that none does. */
  engine: EngineHolderView;
  /** What this process (the shell, the web replica answering Slack) would do itself. */
  shell: ShellView;
  /** Whether live trading waits for reconciliation with Kraken (and what it found), how far it reconciled. */
  reconciliation: ReconciliationStanding;
  /** Why bot_state says paper when an engine took the lease unarmed and withdrew the live approval; null otherwise. */
  liveWithdrawn: LiveWithdrawn | null;
  /** While the engine trades paper: the open live positions Kraken holds, which it neither loads nor sells; null otherwise. */
  liveLeftOpen: LiveLeftOpen | null;
}

/**
 * A status read already made for this request: a Slack status command's delivery claim reads the
 * status rows in its own statement, as it commits (db/queries/slack-deliveries.ts). The first status
 * read takes them instead of reading the same rows again a moment later; nothing is kept past the
 * request, so no status shown is older than the request asking for it.
 */
export interface StatusReadDeps {
  takeStatusRead?: () => StatusRows | undefined;
}

/** Reading the status: bot_state, the engine lease, and this process's own configuration. */
export type ModeStatusDeps = EngineHolderDeps & ShellDeps & StatusReadDeps;

/**
 * bot_state, the engine lease and the latest audit header in one statement (db/queries/mode-status.ts);
 * the bot_state row is created first when it is missing, as getBotState does.
 */
async function readStatus(ctx: ModeStatusDeps): Promise<StatusRows & { state: BotState }> {
  const rows = ctx.takeStatusRead?.() ?? (await readStatusRows(ctx.db));
  if (rows.state) return { ...rows, state: rows.state };
  await getBotState(ctx.db);
  const again = await readStatusRows(ctx.db);
  return { ...again, state: again.state! };
}

function modeStatusOf(ctx: ModeStatusDeps, state: BotState, engine: EngineHolderView, lastSwitch: LastSwitch | null, liveOpen: StatusRows['liveOpen']): ModeStatus {
  const mode = engineMode(state, engine);
  return {
    mode,
    requestedMode: state.mode,
    stateVersion: state.version,
    armed: holderArmed(engine),
    halted: state.halted,
    haltedReason: state.haltedReason,
    haltedAt: state.haltedAt,
    haltedBy: state.haltedBy,
    entriesPaused: state.entriesPaused,
    entriesPausedReason: state.entriesPausedReason,
    tradingState: describeTradingState(state),
    engine,
    shell: shellView(ctx),
    reconciliation: standingOf(state),
    liveWithdrawn: liveWithdrawnOf(state.mode, lastSwitch),
    liveLeftOpen: mode === 'paper' ? liveLeftOpenOf(liveOpen.count, liveOpen.positions.map(livePositionText)) : null,
  };
}

export async function readModeStatus(ctx: ModeStatusDeps): Promise<ModeStatus> {
  const { state, lease, dbNow, lastSwitch, liveOpen } = await readStatus(ctx);
  return modeStatusOf(ctx, state, holderViewHere(lease, dbNow, ctx.config.ENGINE_LEASE_TTL), lastSwitch, liveOpen);
}

/** The mode status and the latest go-live audit verdict (`/golive status`), from one statement. */
export async function readGoLiveStatus(ctx: ModeStatusDeps): Promise<{ status: ModeStatus; latestAudit: AuditVerdict | null }> {
  const { state, lease, dbNow, audit, policy, lastSwitch, liveOpen } = await readStatus(ctx);
  return { status: modeStatusOf(ctx, state, holderViewHere(lease, dbNow, ctx.config.ENGINE_LEASE_TTL), lastSwitch, liveOpen), latestAudit: auditVerdict(audit, gatePolicyOf(policy)) };
}

/** A stored run's verdict, with what the gate says of its thresholds under `policy`. */
export function auditVerdict(row: AuditRunHeader | null, policy: GatePolicy): AuditVerdict | null {
  if (!row) return null;
  return {
    id: row.id, at: row.at, passed: row.passed, dryRun: row.dryRun, mode: row.mode, summary: row.summary, actor: row.actor,
    thresholdRefusal: thresholdStanding(row, policy),
  };
}
