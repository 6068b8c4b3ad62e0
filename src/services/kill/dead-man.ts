// Owns the dead man's switch on Kraken: while this process trades live it keeps renewing
// CancelAllOrdersAfter(DEAD_MAN_TIMEOUT) every DEAD_MAN_INTERVAL, so if the process dies (or hangs)
// Kraken itself cancels every order when the timer runs out. It disarms (timeout 0) when trading
// stops being live (paper), around Kraken maintenance (public SystemStatus not `online`), and on
// graceful shutdown. Halted, it disarms only once the halt's own cancel confirmed zero open orders
// on Kraken (halt-cancel.ts); while orders may remain it stops renewing and leaves the timer to run
// out, so Kraken cancels them itself. Failures alert and are retried with a growing pause (2 s, 4 s …
// capped at 60 s): every refused private call counts on Kraken's REST counter and, while it is over
// its maximum, prolongs the limit for every other call of the key (reconcile, balances). A pause ends
// early when Kraken's public SystemStatus changes (maintenance over), and never outlasts the armed
// timer's last chance to be renewed. Nothing here throws.
// Decisions use the injected clock, so tests move time instead of waiting for it.
import type { Clock } from '../../clock.js';
import type { Config } from '../../config/env.js';
import type { Db } from '../../db/client.js';
import type { Exchange, SystemStatus } from '../../exchange/types.js';
import { backoffDelay, type Backoff } from '../../retry.js';
import { effectiveMode, getBotState } from '../bot-state.js';
import { describeError, withDeadline } from './deadline.js';
import { holdsLease, leaseUnconfirmed, type LeaseProbeDeps } from '../engine-lease/runtime.js';
import { cancelOnHalt, haltCancelState, type HaltCancelDeps } from './halt-cancel.js';
import { isHaltLatched, type KillPorts } from './runtime.js';

/**
 * The switch: Kraken (renew, disarm, status), bot_state for the mode, this process's halt (latch and
 * halt cancel) and engine lease, the clock its decisions use, the alert when Kraken does not answer.
 */
export type DeadManDeps = HaltCancelDeps & LeaseProbeDeps & {
  db: Db;
  clock: Clock;
  config: Pick<Config, 'DEAD_MAN_TIMEOUT' | 'DEAD_MAN_INTERVAL' | 'KILL_DB_TIMEOUT' | 'IS_LIVE'>;
  kill: KillPorts;
};

/** Pause after the first failed renew/disarm, doubled after each further failure up to the cap. */
export const DEAD_MAN_RETRY_BASE_MS = 2_000;
export const DEAD_MAN_RETRY_CAP_MS = 60_000;
const DEAD_MAN_RETRY: Backoff = { baseMs: DEAD_MAN_RETRY_BASE_MS, maxMs: DEAD_MAN_RETRY_CAP_MS };

const LEFT_ARMED = "halted with orders possibly open on Kraken: the dead man's switch is left to run out so Kraken cancels them";

export interface DeadManStatus {
  armed: boolean;
  /**
   * Why it is (not) armed: live, not_live, halted, maintenance (Kraken's status), standby (another
   * worker trades), lease_unconfirmed (this engine's lease renewals go unanswered: left to run out),
   * stopped.
   */
  reason: 'live' | 'not_live' | 'halted' | 'maintenance' | 'standby' | 'lease_unconfirmed' | 'stopped';
  lastRenewedAt: Date | null;
  krakenStatus: SystemStatus | null;
  lastError: string | null;
  /** When a failed renew/disarm is tried again (null: on the next tick that needs it). */
  retryAt: Date | null;
}

export class DeadMansSwitch {
  readonly #ctx: DeadManDeps;
  readonly #timeoutMs: number;
  readonly #intervalMs: number;
  #armed = false;
  #lastRenewedAt: Date | null = null;
  #statusCheckedAt: Date | null = null;
  #krakenStatus: SystemStatus | null = null;
  #wantLive = false;
  /** The halt as bot_state last said (null: not halted): another process's halt, before this process's watcher latches it. */
  #haltedInDb: string | null = null;
  #lastError: string | null = null;
  /** This run of failed renewals has paged (critical): once per run. */
  #paged = false;
  #reason: DeadManStatus['reason'] = 'not_live';
  /** Failed renew/disarm calls in a row, and when the next may go (clock ms; null: at once). */
  #failures = 0;
  #retryAt: number | null = null;
  #running: Promise<DeadManStatus> | null = null;

  constructor(ctx: DeadManDeps, opts: { timeoutMs?: number; intervalMs?: number } = {}) {
    this.#ctx = ctx;
    this.#timeoutMs = opts.timeoutMs ?? ctx.config.DEAD_MAN_TIMEOUT;
    this.#intervalMs = opts.intervalMs ?? ctx.config.DEAD_MAN_INTERVAL;
  }

  status(): DeadManStatus {
    return { armed: this.#armed, reason: this.#reason, lastRenewedAt: this.#lastRenewedAt, krakenStatus: this.#krakenStatus, lastError: this.#lastError, retryAt: this.#retryAt === null ? null : new Date(this.#retryAt) };
  }

  /** One decision: arm, renew when due, or disarm. The timer calls it every second; tests call it. */
  tick(): Promise<DeadManStatus> {
    this.#running ??= this.#tick().finally(() => {
      this.#running = null;
    });
    return this.#running;
  }

  /** Graceful shutdown: disarm so Kraken does not cancel the orders of a bot that stopped on purpose. */
  async stop(): Promise<DeadManStatus> {
    await this.#running;
    this.#reason = 'stopped';
    if (this.#armed) await this.#disarm('stopped');
    return this.status();
  }

  #kraken(): Exchange {
    return this.#ctx.exchanges.kraken();
  }

  async #tick(): Promise<DeadManStatus> {
    const ctx = this.#ctx;
    const now = ctx.clock.now();
    try {
      const state = await withDeadline(getBotState(ctx.db), ctx.config.KILL_DB_TIMEOUT, 'the database (bot_state)');
      this.#wantLive = effectiveMode(state, ctx.config.IS_LIVE) === 'live';
      this.#haltedInDb = state.halted ? (state.haltedReason ?? 'halted') : null;
    } catch (err) {
      // Without the database the engine cannot trade either; keep the last decision. (Its lease
      // renewals fail too: then the switch is left to run out, below — lease_unconfirmed.)
      ctx.logger.warn({ error: describeError(err) }, "dead man's switch: could not read bot_state; keeping the last decision");
    }
    // Halted here (the latch) or in the database: the halt watcher latches a halt another process
    // wrote on its own poll, and this tick may read it first. Either way this is a halt, not a
    // switch to paper: disarming now would drop Kraken's backstop with the orders still open.
    const halted = isHaltLatched(ctx) || this.#haltedInDb !== null;
    // A standby worker (another process holds the engine lease) leaves the switch to the one trading;
    // a process with no engine at all (a test, a tool) decides as if it traded.
    const trading = holdsLease(ctx) ?? true;
    // This engine's lease renewals go unanswered (the database is away) and nobody took it: nobody
    // trades, and nobody watches the orders this engine left on Kraken. Neither renewed (this process
    // may be the one that hangs next) nor disarmed (that dropped Kraken's backstop for a "standby" no
    // other worker was): left to run out, so Kraken cancels them if the database stays away longer
    // than DEAD_MAN_TIMEOUT. Renewed again once a renewal is confirmed.
    if (!trading && this.#wantLive && leaseUnconfirmed(ctx)) {
      if (this.#reason !== 'lease_unconfirmed') {
        ctx.logger.warn({ armed: this.#armed }, "dead man's switch: this engine's lease renewals go unanswered (the database?): not renewed, not disarmed — left to run out so Kraken cancels if the database stays away");
      }
      this.#reason = 'lease_unconfirmed';
      return this.status();
    }
    if (this.#wantLive && trading && !halted && this.#statusDue(now)) await this.#checkStatus(now);
    const maintenance = this.#krakenStatus !== null && this.#krakenStatus !== 'online';
    const want = this.#wantLive && trading && !halted && !maintenance;
    this.#reason = want ? 'live' : halted ? 'halted' : !trading ? 'standby' : maintenance && this.#wantLive ? 'maintenance' : 'not_live';
    if (want) {
      const due = !this.#armed || this.#lastError !== null || !this.#lastRenewedAt || now.getTime() - this.#lastRenewedAt.getTime() >= this.#intervalMs;
      if (due && this.#mayCall(now)) await this.#renew(now);
    } else if (this.#armed && (!halted || this.#haltCancelConfirmed()) && this.#mayCall(now)) {
      await this.#disarm(this.#reason);
    }
    return this.status();
  }

  /** A failed call's pause is over (or there was none). */
  #mayCall(now: Date): boolean {
    return this.#retryAt === null || now.getTime() >= this.#retryAt;
  }

  #succeeded(): void {
    this.#lastError = null;
    this.#failures = 0;
    this.#retryAt = null;
  }

  /**
   * Halted: disarm only after the halt's Kraken cancel confirmed zero open orders (starting it if none
   * is under way), and only once this process has latched the halt: until then a confirmed cancel may
   * be an earlier halt's (the latch starts this halt's own).
   */
  #haltCancelConfirmed(): boolean {
    const state = haltCancelState(this.#ctx);
    if (state === 'none') void cancelOnHalt(this.#ctx, this.#ctx.kill.latch.reason ?? this.#haltedInDb ?? 'halted');
    if (state === 'unconfirmed' && this.#lastError !== LEFT_ARMED) {
      this.#lastError = LEFT_ARMED;
      this.#ctx.logger.warn(LEFT_ARMED);
    }
    return state === 'confirmed' && isHaltLatched(this.#ctx);
  }

  #statusDue(now: Date): boolean {
    return !this.#statusCheckedAt || now.getTime() - this.#statusCheckedAt.getTime() >= this.#intervalMs || this.#krakenStatus !== 'online';
  }

  async #checkStatus(now: Date): Promise<void> {
    const exchange = this.#kraken();
    if (!exchange.fetchSystemStatus) return;
    try {
      const status = await withDeadline(exchange.fetchSystemStatus(), this.#timeoutMs / 4, 'Kraken SystemStatus');
      if (status !== this.#krakenStatus && this.#krakenStatus !== null) {
        this.#ctx.logger.warn({ from: this.#krakenStatus, to: status }, `Kraken system status is now ${status}`);
        // Kraken changed state (maintenance over): a paused renew/disarm goes at once.
        this.#retryAt = null;
      }
      this.#krakenStatus = status;
      this.#statusCheckedAt = now;
    } catch (err) {
      // Unknown status: keep the switch as it is (renewed when live); say so once per failure.
      this.#ctx.logger.warn({ error: describeError(err) }, "dead man's switch: could not read Kraken's system status");
    }
  }

  async #renew(now: Date): Promise<void> {
    try {
      await withDeadline(this.#kraken().cancelAllOrdersAfter(this.#timeoutMs), this.#timeoutMs / 4, 'Kraken CancelAllOrdersAfter');
      if (!this.#armed) this.#ctx.logger.info({ timeoutSeconds: this.#timeoutMs / 1000 }, "dead man's switch armed on Kraken");
      if (this.#lastError) this.#ctx.logger.info("dead man's switch renewals succeed again");
      this.#armed = true;
      this.#lastRenewedAt = now;
      this.#succeeded();
    } catch (err) {
      await this.#failed(err, 'renew');
    }
  }

  async #disarm(why: DeadManStatus['reason']): Promise<void> {
    try {
      await withDeadline(this.#kraken().cancelAllOrdersAfter(0), this.#timeoutMs / 4, 'Kraken CancelAllOrdersAfter(0)');
      this.#armed = false;
      this.#succeeded();
      this.#ctx.logger.info({ why }, "dead man's switch disarmed on Kraken");
    } catch (err) {
      await this.#failed(err, 'disarm');
    }
  }

  async #failed(err: unknown, what: 'renew' | 'disarm'): Promise<void> {
    const first = this.#lastError === null;
    this.#lastError = describeError(err);
    const deadline = this.#lastRenewedAt ? new Date(this.#lastRenewedAt.getTime() + this.#timeoutMs) : null;
    const now = this.#ctx.clock.now().getTime();
    this.#failures += 1;
    let retryAt = now + backoffDelay(DEAD_MAN_RETRY, this.#failures);
    // An armed switch still gets a renewal try before its timer runs out.
    if (what === 'renew' && this.#armed && deadline) retryAt = Math.min(retryAt, Math.max(now + DEAD_MAN_RETRY_BASE_MS, deadline.getTime() - DEAD_MAN_RETRY_BASE_MS));
    this.#retryAt = retryAt;
    this.#ctx.logger.warn({ error: this.#lastError, what, failures: this.#failures, retryInSeconds: (retryAt - now) / 1000 },
      `dead man's switch: could not ${what} on Kraken; trying again in ${Math.round((retryAt - now) / 1000)} s`);
    // A failed renewal is retried after its pause: the first says so (warning), and one run of failures pages
    // (critical) once the switch is within one renewal interval of firing — a single Kraken blip that
    // the next renewal heals is not a reason to wake anyone.
    const closeToFiring = what === 'renew' && this.#armed && deadline !== null && deadline.getTime() - this.#ctx.clock.now().getTime() <= this.#intervalMs;
    if (first) this.#paged = false;
    if (!first && !(closeToFiring && !this.#paged)) return;
    if (closeToFiring) this.#paged = true;
    const title = what === 'renew'
      ? `Dead man's switch could not be renewed on Kraken${deadline ? `: Kraken cancels every order at ${deadline.toISOString()} unless a renewal succeeds` : ''}`
      : "Dead man's switch could not be disarmed on Kraken: it may cancel every order when its timer runs out";
    await this.#ctx.alerts.raise({ source: 'kill', severity: closeToFiring ? 'critical' : 'warning', title, fingerprint: `dead-man:${what}${closeToFiring ? ':firing' : ''}`,
      details: { error: this.#lastError, timeoutSeconds: this.#timeoutMs / 1000, lastRenewedAt: this.#lastRenewedAt?.toISOString() ?? null } })
      .catch((alertErr: unknown) => this.#ctx.logger.error({ err: alertErr }, "could not raise the dead man's switch alert"));
  }
}

/** The running bot's switch: a tick every second while armed for live (IS_LIVE with Kraken keys). */
export function startDeadMansSwitch(ctx: DeadManDeps, opts: { tickMs?: number } = {}): { dms: DeadMansSwitch; stop(): Promise<void> } | null {
  if (!ctx.config.IS_LIVE || !ctx.exchanges.hasKrakenKeys()) return null;
  const dms = new DeadMansSwitch(ctx);
  void dms.tick();
  const timer = setInterval(() => void dms.tick(), opts.tickMs ?? 1_000);
  timer.unref();
  return {
    dms,
    async stop() {
      clearInterval(timer);
      await dms.stop();
    },
  };
}
