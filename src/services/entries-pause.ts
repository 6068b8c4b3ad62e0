// Owns pausing and resuming new entries (the `reducing` trading state): who, why and when are written
// with the pause, in bot_state, so every process and a restart see it. An operator pauses in one
// step; the risk guard pauses on a daily-loss or drawdown breach (as `system:risk-guard`). Resuming
// after a risk-guard pause needs the breach cleared, or `force` with a reason — both recorded. Only
// a forced unpause past an uncleared breach re-arms the guard (recorded in its risk event, which the
// engine follows): a plain pause and unpause leave the equity peak and the day's opening equity as
// they were.
import type { AlertSink } from '../alerts/types.js';
import type { Clock } from '../clock.js';
import type { Db } from '../db/client.js';
import { clearEntriesPausedIfSet, setEntriesPausedIfNot } from '../db/queries/bot-state-row.js';
import { insertRiskEventAtDbNow } from '../db/queries/risk-events.js';
import { rearmScopeFor, rearmText, type RearmScope } from '../domain/risk-rearm.js';
import { haltLiftText } from '../domain/trading-state.js';
import type { BotState } from '../db/schema/index.js';
import type { Actor } from '../domain/actor.js';
import { AppError } from '../errors.js';
import type { Logger } from '../logger.js';
import { getBotState } from './bot-state.js';
import { riskPauseStatus, type RiskPauseDeps, type RiskPauseStatus } from './risk-pause-status.js';

export { RISK_GUARD_ACTOR } from './risk-pause-status.js';

/** Removes what PostgreSQL refuses in text (NUL) and bounds the length; a reason is for people. */
export function cleanReason(text: string | undefined, max = 500): string | undefined {
  const clean = text?.replace(/\u0000/g, '').trim();
  if (!clean) return undefined;
  return clean.length > max ? `${clean.slice(0, max - 1)}…` : clean;
}

export interface PauseOutcome {
  changed: boolean;
  state: BotState;
}

/**
 * Pauses entries unless they already are (then the first pause's who/why/when stand). One
 * conditional UPDATE, so two pauses racing record one of them, never a mix.
 */
export async function pauseEntries(db: Db, clock: Clock, p: { by: string; reason: string | null }): Promise<PauseOutcome> {
  await getBotState(db);
  const now = clock.now();
  const row = await setEntriesPausedIfNot(db, { by: p.by, reason: p.reason, at: now });
  return row ? { changed: true, state: row } : { changed: false, state: await getBotState(db) };
}

/** What an operator's pause and an unpause need: the breach judgement's reads, the log, the alert. */
export type EntriesPauseDeps = RiskPauseDeps & { clock: Clock; logger: Logger; alerts: Pick<AlertSink, 'raise'> };

export interface OperatorPauseResult {
  ok: true;
  state: 'reducing' | 'halted';
  pausedBy: string;
  pausedAt: Date;
  reason: string | null;
  /** Halted too: the pause outlives a resume. */
  halted: boolean;
  /** The halt that comes first while halted (who, when, why: bot_state's); null when not halted. */
  halt: HaltFacts | null;
}

/** A halt as bot_state records it: who, when, why. */
export interface HaltFacts {
  by: string | null;
  at: Date | null;
  reason: string | null;
}

const haltOf = (state: BotState): HaltFacts | null => (state.halted ? { by: state.haltedBy, at: state.haltedAt, reason: state.haltedReason } : null);

export async function pauseByOperator(ctx: EntriesPauseDeps, actor: Actor, reason: string | undefined): Promise<OperatorPauseResult> {
  const { changed, state } = await pauseEntries(ctx.db, ctx.clock, { by: actor.id, reason: reason ?? null });
  if (!changed) {
    const since = state.entriesPausedAt ? ` since ${state.entriesPausedAt.toISOString()}` : '';
    throw new AppError('conflict', 'already_paused',
      `New entries are already paused${state.entriesPausedBy ? ` by ${state.entriesPausedBy}` : ''}${since}${state.entriesPausedReason ? ` (${state.entriesPausedReason})` : ''}: nothing changed.`,
      { hint: 'Unpause first to pause with another reason.' });
  }
  // A halt comes first: nothing trades, exits included, until it is lifted; the pause holds after that.
  ctx.logger.warn({ actor: actor.id, reason }, state.halted
    ? 'new entries paused by an operator: trading state stays halted (no orders at all), reducing once the halt is lifted'
    : 'new entries paused by an operator: trading state reducing');
  await ctx.alerts.raise({
    source: 'risk', severity: 'info', fingerprint: 'entries_paused:operator',
    title: `New entries paused by ${actor.id}${reason ? `: ${reason}` : ''} ${state.halted
      ? '(the bot is halted: no orders at all until the halt is lifted; entries stay paused after it)'
      : '(exits and stop-losses continue)'}`,
    details: { actor: actor.id, reason: reason ?? null },
  }).catch((err: unknown) => ctx.logger.error({ err }, 'could not raise the pause alert'));
  return {
    ok: true, state: state.halted ? 'halted' : 'reducing', pausedBy: actor.id, pausedAt: state.entriesPausedAt ?? ctx.clock.now(), reason: reason ?? null, halted: state.halted,
    halt: haltOf(state),
  };
}

export interface UnpauseResult {
  /** False while halted: the pause is lifted, but nothing trades until the halt is (CLI exit 1). */
  ok: boolean;
  state: 'active' | 'halted';
  /** The halt that comes first while halted (who, when, why: bot_state's); null when not halted. */
  halt: HaltFacts | null;
  was: { by: string | null; at: Date | null; reason: string | null };
  /** Set when the risk guard had paused entries: which breach, and whether it had cleared. */
  breach: RiskPauseStatus | null;
  forced: boolean;
  forceReason: string | null;
  /**
   * What the forced unpause reset in the risk guard (null: nothing, it measures from the same peak
   * and day's opening equity as before the pause): `drawdown_and_daily` — the equity peak and the
   * day's opening equity become the equity at the resume; `daily` — the day's opening equity only.
   */
  rearm: RearmScope | null;
}

export async function unpauseEntries(ctx: EntriesPauseDeps, actor: Actor, p: { force: boolean; reason?: string | undefined }): Promise<UnpauseResult> {
  const state = await getBotState(ctx.db);
  if (!state.entriesPaused) {
    // Halted, an unpause is what someone tries to get trading back: name what does.
    const halted = (surface: 'cli' | 'slack') => `The bot is halted, and the halt comes first: nothing trades, exits included. ${haltLiftText(state.haltedBy, surface)}`;
    throw new AppError('conflict', 'not_paused', 'New entries are not paused: there is nothing to unpause.',
      state.halted ? { hint: halted('slack'), terminalHint: halted('cli') } : {});
  }
  if (p.force && !p.reason) throw new AppError('usage', 'force_needs_reason', 'Forcing an unpause needs a reason (it is recorded with the risk events).');
  const breach = await riskPauseStatus(ctx, state);
  if (breach && !breach.cleared && !p.force) {
    throw new AppError('conflict', 'breach_not_cleared',
      `New entries were paused by the risk guard: ${breach.pausedFor}. It has not cleared: ${breach.now}.`,
      { hint: `Wait until it clears, or unpause with force and a reason (ctb unpause --force --reason "…", /unpause force <reason>); then ${rearmText(rearmScopeFor(breach.kind))}.` });
  }
  const forced = p.force && breach !== null && !breach.cleared;
  const rearm = forced && breach ? rearmScopeFor(breach.kind) : null;
  const now = ctx.clock.now();
  // Halted or not is the row as the update left it: a kill (or a resume) written since the read above
  // is what the bot now is, and what this says.
  const after = await ctx.db.transaction(async (tx) => {
    const row = await clearEntriesPausedIfSet(tx, now);
    if (!row) return undefined;
    // Stamped by the database's clock, which every process shares: this process's may be minutes off.
    await insertRiskEventAtDbNow(tx, {
      kind: 'cleared', value: '0', threshold: '0', action: 'entries_resumed',
      details: {
        actor: actor.id, reason: p.reason ?? null, forced, breach: breach?.kind ?? null, pausedBy: state.entriesPausedBy,
        ...(rearm ? { rearm, mode: breach?.mode ?? state.mode } : {}),
      },
    });
    return row;
  });
  if (!after) throw new AppError('conflict', 'not_paused', 'New entries were unpaused meanwhile by someone else: nothing changed.');
  // A halt comes first: unpaused, nothing trades until it is lifted; then entries and exits.
  ctx.logger.warn({ actor: actor.id, forced, breach: breach?.kind ?? null, rearm }, after.halted
    ? 'new entries unpaused: trading state stays halted (no orders at all), active once the halt is lifted'
    : 'new entries resumed');
  await ctx.alerts.raise({
    source: 'risk', severity: forced ? 'warning' : 'info', fingerprint: 'entries_resumed',
    title: `New entries ${after.halted ? 'unpaused' : 'resumed'} by ${actor.id}${forced ? ` past an uncleared ${breach!.kind} breach: ${p.reason}` : ''}${rearm ? `; ${rearmText(rearm)}` : ''}${after.halted
      ? ' (the bot is halted: no orders at all until the halt is lifted; active after it)' : ''}`,
    details: { actor: actor.id, forced, breach: breach?.kind ?? null, reason: p.reason ?? null, rearm },
  }).catch((err: unknown) => ctx.logger.error({ err }, 'could not raise the unpause alert'));
  return {
    ok: !after.halted, state: after.halted ? 'halted' : 'active', halt: haltOf(after), was: { by: state.entriesPausedBy, at: state.entriesPausedAt, reason: state.entriesPausedReason },
    breach, forced, forceReason: forced ? p.reason ?? null : null, rearm,
  };
}
