// Owns the risk guard: drawdown from the equity peak (the peak carried in the ledger's equity
// snapshots, so a restart resumes it) and a daily loss limit (against the day's first equity). A
// breach pauses new entries — persisted in bot_state.entriesPaused, so a restart keeps it — records
// a risk_events row and raises a critical alert. Exits stay allowed: they only reduce risk.
// A drawdown past RISK_HARD_DRAWDOWN_PCT is also reported to onHardBreach (the kill switch's hook).
// Resuming entries re-arms nothing unless an operator forced an unpause past an uncleared breach:
// that unpause's risk event says what it reset (domain/risk-rearm.ts), and the guard follows it —
// at once in the running engine, or from the ledger after a restart.
import { ALERTED } from '../alerts/log-source.js';
import type { AlertSink } from '../alerts/types.js';
import type { Clock } from '../clock.js';
import type { Db } from '../db/client.js';
import { insertRiskEvent, latestRearm, markRearmFollowed } from '../db/queries/risk-events.js';
import type { Logger } from '../logger.js';
import { Decimal, ZERO, dec, str } from '../money.js';
import { updateBotState, type Mode } from '../services/bot-state.js';
import { pauseEntries, RISK_GUARD_ACTOR } from '../services/entries-pause.js';
import { latestSnapshot } from '../db/queries/ledger-snapshots.js';
import { dayOpeningSnapshot } from '../services/risk-pause-status.js';

export interface RiskLimits {
  maxDrawdownPct: number;
  dailyLossPct: number;
  hardDrawdownPct: number;
}

export type BreachKind = 'max_drawdown' | 'daily_loss' | 'hard_drawdown';

export interface RiskBreach {
  kind: BreachKind;
  /** The measured drawdown or daily loss, in percent. */
  valuePct: number;
  thresholdPct: number;
  equity: number;
  reference: number;
  at: Date;
  mode: Mode;
  /** The same figures exact: what the risk_events row stores (set by observe; without it, the floats are stored). */
  exact?: { equity: Decimal; reference: Decimal; valuePct: Decimal };
}

export type HardBreachListener = (breach: RiskBreach) => void | Promise<void>;

export interface RiskGuardDeps {
  db: Db;
  clock: Clock;
  alerts: AlertSink;
  logger: Logger;
  limits: RiskLimits;
  onHardBreach?: HardBreachListener | undefined;
  /**
   * The engine runs on a feed that is not a market (replay, synthetic): a breach still pauses entries
   * (and a hard one still kills), but it is a warning, not a page — no money is at risk, and a demo's
   * losses must not count as critical alerts against the go-live criteria or as errors in the logs.
   */
  rehearsal?: boolean;
}

/** What observe returns when nothing is breached: one empty array, never changed, for every candle. */
const NO_BREACHES: RiskBreach[] = Object.freeze([]) as unknown as RiskBreach[];
const DAY_MS = 86_400_000;

/** (reference − equity) / reference in percent, at least 0; 0 without a positive reference. */
function exactLossPct(reference: Decimal, equity: Decimal): Decimal {
  return reference.gt(0) ? Decimal.max(ZERO, reference.minus(equity).div(reference).times(100)) : ZERO;
}

export class RiskGuard {
  // Each mark is compared in floats (a threshold check); the peak and the day's opening equity are
  // also kept exact, taken from the exact equity when the float comparison moves them, because the
  // peak is stored in equity snapshots (the restart point) and both are stored with a breach.
  #peak = 0;
  #peakExact: Decimal = ZERO;
  #day = -1;
  #dayOpen = 0;
  #dayOpenExact: Decimal = ZERO;
  #paused = false;
  #hardReported = false;
  /** The newest re-arm (risk event id) this guard has taken into account. */
  #rearmSeen = 0;

  constructor(private readonly deps: RiskGuardDeps, private readonly mode: Mode) {}

  get peak(): number {
    return this.#peak;
  }

  /** The peak as stored in equity snapshots. */
  get peakExact(): Decimal {
    return this.#peakExact;
  }

  get paused(): boolean {
    return this.#paused;
  }

  /**
   * Resumes from the ledger: the latest snapshot's peak, today's first equity, the persisted pause.
   * After a forced unpause's re-arm only snapshots written after the engine took it in measure from
   * the re-armed figures (judged by the database's order of writing, never by process clocks): a
   * re-arm no engine took in yet is taken in here, and what no such snapshot stores yet — the peak,
   * the day's opening equity — is taken at the first mark.
   */
  async load(at: Date, entriesPaused: boolean): Promise<void> {
    const { db } = this.deps;
    let rearm = await latestRearm(db, this.mode);
    if (rearm && rearm.followedSnapshotId === null) {
      rearm = { ...rearm, followedSnapshotId: await markRearmFollowed(db, rearm.id, this.mode) };
      this.deps.logger.warn({ rearm: rearm.scope }, 'risk guard re-armed by a forced unpause made while the engine was not following');
    }
    this.#rearmSeen = rearm?.id ?? 0;
    // After a re-arm of the peak, only snapshots written since the engine took it in carry it (none: pending).
    const latest = await latestSnapshot(db, this.mode, rearm?.scope === 'drawdown_and_daily' ? rearm.followedSnapshotId ?? 0 : undefined);
    this.#peakExact = latest ? dec(latest.peakEquity) : ZERO;
    this.#peak = this.#peakExact.toNumber();
    const dayStart = Math.floor(at.getTime() / DAY_MS) * DAY_MS;
    const first = await dayOpeningSnapshot(db, this.mode, rearm, new Date(dayStart));
    this.#day = dayStart / DAY_MS;
    this.#dayOpenExact = first ? dec(first.equity) : ZERO;
    this.#dayOpen = this.#dayOpenExact.toNumber();
    this.#paused = entriesPaused;
  }

  /**
   * Entries were resumed: if an operator's forced unpause re-armed the guard since it last looked,
   * what that unpause names is reset to the equity now. Otherwise nothing is: a plain unpause keeps
   * the peak and the day's opening equity. The caller writes its queued snapshots first: they were
   * measured from the earlier figures, and the re-arm is recorded as taken in after the newest one.
   * Returns whether anything was reset.
   */
  async followRearm(equity: number, at: Date, exact: () => Decimal): Promise<boolean> {
    const rearm = await latestRearm(this.deps.db, this.mode);
    if (!rearm || rearm.id <= this.#rearmSeen) return false;
    this.#rearmSeen = rearm.id;
    const now = exact();
    if (rearm.scope === 'drawdown_and_daily') {
      this.#peak = equity;
      this.#peakExact = now;
      this.#hardReported = false;
    }
    this.#day = Math.floor(at.getTime() / DAY_MS);
    this.#dayOpen = equity;
    this.#dayOpenExact = now;
    await markRearmFollowed(this.deps.db, rearm.id, this.mode);
    this.deps.logger.warn({ rearm: rearm.scope, equity: str(now) }, 'risk guard re-armed by a forced unpause');
    return true;
  }

  set entriesPaused(value: boolean) {
    this.#paused = value;
  }

  /** For the per-candle check and the gauge; never stored (exactDrawdownPct is). */
  drawdownPct(equity: number): number {
    return this.#peak > 0 ? Math.max(0, ((this.#peak - equity) / this.#peak) * 100) : 0;
  }

  exactDrawdownPct(equity: Decimal): Decimal {
    return exactLossPct(this.#peakExact, equity);
  }

  /**
   * Called on every mark (a threshold check, so floats are fine here; the ledger stays exact).
   * `exact` gives the same equity exactly; it is asked only when the peak or the day's opening
   * moves, or on a breach. Returns the breaches this mark newly causes; an already-paused guard
   * reports only a hard breach.
   */
  observe(equity: number, at: Date, exact?: () => Decimal): RiskBreach[] {
    // The exact equity is worked out at most once, and only where a figure is kept. Called once a
    // candle: it creates no function (each named one costs a defineProperty in the shipped build,
    // which keeps functions' names) and no array unless something is breached.
    let exactNow: Decimal | undefined;
    // Float rounding keeps order but not difference: two equities less than a float's step apart
    // compare equal, so a tie is settled on the exact figures (a flat book at its peak pays one
    // decimal comparison per mark).
    if (equity > this.#peak || (equity === this.#peak && equity > 0)) {
      this.#peak = equity;
      exactNow ??= exact ? exact() : dec(equity);
      this.#peakExact = Decimal.max(this.#peakExact, exactNow);
    }
    const day = Math.floor(at.getTime() / DAY_MS);
    if (day !== this.#day || this.#dayOpen <= 0) {
      this.#day = day;
      this.#dayOpen = equity;
      this.#dayOpenExact = exactNow ??= exact ? exact() : dec(equity);
    }
    const { limits } = this.deps;
    const drawdown = this.drawdownPct(equity);
    const hard = !this.#hardReported && drawdown >= limits.hardDrawdownPct;
    const max = !this.#paused && drawdown >= limits.maxDrawdownPct;
    const loss = this.#paused || max ? 0 : this.#dayOpen > 0 ? ((this.#dayOpen - equity) / this.#dayOpen) * 100 : 0;
    const daily = !this.#paused && !max && loss >= limits.dailyLossPct;
    if (!hard && !max && !daily) return NO_BREACHES;
    exactNow ??= exact ? exact() : dec(equity);
    const out: RiskBreach[] = [];
    const base = { equity, at, mode: this.mode };
    const fromPeak = { equity: exactNow, reference: this.#peakExact, valuePct: this.exactDrawdownPct(exactNow) };
    if (hard) {
      this.#hardReported = true;
      out.push({ ...base, kind: 'hard_drawdown', valuePct: drawdown, thresholdPct: limits.hardDrawdownPct, reference: this.#peak, exact: fromPeak });
    }
    if (max) out.push({ ...base, kind: 'max_drawdown', valuePct: drawdown, thresholdPct: limits.maxDrawdownPct, reference: this.#peak, exact: { ...fromPeak } });
    if (daily) {
      out.push({
        ...base, kind: 'daily_loss', valuePct: loss, thresholdPct: limits.dailyLossPct, reference: this.#dayOpen,
        exact: { equity: exactNow, reference: this.#dayOpenExact, valuePct: exactLossPct(this.#dayOpenExact, exactNow) },
      });
    }
    if (max || daily) this.#paused = true;
    return out;
  }

  /**
   * Tells the kill switch of a hard breach first — its exchange cancel must not wait behind database
   * writes that may stall — then persists the breach: pause entries, record the event, raise the alert.
   */
  async handle(breach: RiskBreach): Promise<void> {
    const { db, clock, alerts, logger } = this.deps;
    if (breach.kind === 'hard_drawdown' && this.deps.onHardBreach) {
      try {
        await this.deps.onHardBreach(breach);
      } catch (err) {
        logger.error({ err }, 'the hard-drawdown listener failed');
      }
    }
    const pauses = breach.kind !== 'hard_drawdown';
    const exact = breach.exact ?? { equity: dec(breach.equity), reference: dec(breach.reference), valuePct: dec(breach.valuePct) };
    const what = breach.kind === 'daily_loss' ? 'daily loss' : 'drawdown';
    const reason = `${what} ${breach.valuePct.toFixed(2)}% reached the ${breach.thresholdPct}% limit (${breach.kind})`;
    // The trading state becomes `reducing`, written with who (the guard) and when; an earlier pause stands.
    if (pauses) await pauseEntries(db, clock, { by: RISK_GUARD_ACTOR, reason });
    await insertRiskEvent(db, {
      at: breach.at, kind: breach.kind, value: exact.valuePct.toFixed(6), threshold: String(breach.thresholdPct),
      action: pauses ? 'entries_paused' : 'hard_breach_reported',
      details: { mode: breach.mode, equity: str(exact.equity), reference: str(exact.reference) },
    });
    const rehearsal = this.deps.rehearsal === true;
    const on = rehearsal ? ' (replayed market, no money at risk)' : '';
    (rehearsal ? logger.warn.bind(logger) : logger.error.bind(logger))({ ...ALERTED, breach: { ...breach, at: breach.at.toISOString() } }, `risk guard: ${reason}${on}`);
    await alerts.raise({
      source: 'risk', severity: rehearsal ? 'warning' : 'critical', fingerprint: `risk:${breach.kind}`,
      title: pauses ? `Risk guard paused new entries${on}: ${reason}` : `Hard drawdown limit breached${on}: ${reason}`,
      details: { kind: breach.kind, valuePct: Number(breach.valuePct.toFixed(4)), thresholdPct: breach.thresholdPct, equity: breach.equity, mode: breach.mode },
    });
  }
}

/** Clears a risk pause (an operator's decision), recording it. It re-arms nothing: the guard keeps its peak. */
export async function resumeEntries(db: Db, clock: Clock, p: { actor: string; reason?: string }): Promise<void> {
  await updateBotState(db, clock, { entriesPaused: false, entriesPausedReason: null, entriesPausedBy: null, entriesPausedAt: null });
  await insertRiskEvent(db, {
    at: clock.now(), kind: 'cleared', value: '0', threshold: '0', action: 'entries_resumed', details: { actor: p.actor, reason: p.reason ?? null },
  });
}
