// Owns when the engine's process reconciles with Kraken, and the gate that keeps live trading shut
// until it passes: at start (and, after taking over from a dead predecessor, with the bot halted
// first), whenever the database starts asking for live, after Kraken comes back from an outage (a
// probe of Kraken's open orders every RECONCILE_PROBE_INTERVAL; while it fails the gate is shut), when
// that probe lists an open order the bot cannot explain, and once an operator lifted a block. The
// block itself lives in the database (bot_state.reconciliation_blocked), read every tick: one written
// by any process (an adopt in a shell, another engine) shuts the gate as this monitor's own does, and
// stays until an operator lifts it — no run of the monitor's (reconnect, retry) lifts it. Only in an
// armed process (IS_LIVE with Kraken keys); paper needs no reconciliation. Runs under the order lock,
// so no order of this process is in flight while Kraken and the ledger are compared.
import type { Config } from '../../../config/env.js';
import type { Database } from '../../../db/client.js';
import { liveReconciliationWhy } from '../../../domain/engine-waiting.js';
import type { JobRegistry } from '../../../jobs/registry.js';
import { withOrderLock } from '../../../engine/order-lock.js';
import type { Mode } from '../../bot-state.js';
import type { BotState } from '../../../db/schema/index.js';
import { getBotState } from '../../bot-state.js';
import type { OrderState } from '../../../exchange/types.js';
import { describeError, withDeadline } from '../../kill/deadline.js';
import { unexplainedOpenOrders } from './open-orders.js';
import { blockHeldForOperator, haltForTakeover, runReconciliation, type ReconciliationCause, type ReconciliationDeps, type ReconciliationRun } from './run.js';

export type GateStatus =
  /** Not armed, or the database asks for paper: nothing to reconcile. */
  | 'not_needed'
  /** Live is asked for and no reconciliation has passed yet. */
  | 'pending'
  | 'passed'
  /** bot_state holds a block (whoever wrote it): it waits for an operator. */
  | 'blocked'
  /** Kraken (or the database) did not answer; retried every probe interval. */
  | 'unreachable';

export interface ReconciliationMonitor {
  status(): GateStatus;
  /** For the engine's gate: why live trading must wait, or null. */
  blockReason(mode: Mode): string | null;
  /** After taking the lease: halts first when it was taken over from a dead predecessor. */
  begin(takenOverFrom: string | null): Promise<void>;
  /** One decision (the timer calls it every second; tests call it). */
  tick(): Promise<void>;
  lastRun(): ReconciliationRun | null;
  stop(): Promise<void>;
}

/** What the monitor needs: what a reconciliation needs, the database handle for the order lock, and its own settings. */
export type ReconciliationMonitorDeps = ReconciliationDeps & {
  database: Database;
  config: Pick<Config, 'IS_LIVE' | 'RECONCILE_PROBE_INTERVAL' | 'KILL_DB_TIMEOUT'>;
};

export interface ReconciliationMonitorOptions {
  tickMs?: number;
  probeMs?: number;
  timer?: boolean;
  /** After each tick that read bot_state, with what it read (the gate's answer may have changed): the engine records it. */
  onDecided?: (state: BotState) => void;
}

export function createReconciliationMonitor(ctx: ReconciliationMonitorDeps, opts: ReconciliationMonitorOptions = {}): ReconciliationMonitor {
  const armed = ctx.config.IS_LIVE && ctx.exchanges.hasKrakenKeys();
  const probeMs = opts.probeMs ?? ctx.config.RECONCILE_PROBE_INTERVAL;
  let status: GateStatus = armed ? 'pending' : 'not_needed';
  let cause: ReconciliationCause = 'start';
  let last: ReconciliationRun | null = null;
  let lastAttemptAt = -Infinity;
  let lastProbeAt = Date.now();
  let failures = 0;
  let running: Promise<void> | null = null;
  let timer: NodeJS.Timeout | undefined;

  const reconcile = async (): Promise<void> => {
    lastAttemptAt = Date.now();
    try {
      const run = await withOrderLock(ctx, () => runReconciliation(ctx, { cause }));
      last = run;
      status = run.ok ? 'passed' : 'blocked';
      lastProbeAt = Date.now();
      failures = 0;
      if (run.ok) ctx.logger.info({ cause, reconciledThrough: run.reconciledThrough }, 'reconciliation with Kraken passes: live trading may run');
    } catch (err) {
      status = 'unreachable';
      failures += 1;
      if (failures === 1 || failures % 20 === 0) {
        ctx.logger.warn({ error: describeError(err), cause, failures }, 'could not reconcile with Kraken yet; live trading waits');
      }
    }
  };

  const decide = async (): Promise<void> => {
    const state = await withDeadline(getBotState(ctx.db), ctx.config.KILL_DB_TIMEOUT, 'the database (bot_state)');
    try {
      await decideOn(state);
    } finally {
      opts.onDecided?.(state);
    }
  };

  const decideOn = async (state: BotState): Promise<void> => {
    if (!armed || state.mode !== 'live') {
      status = 'not_needed';
      return;
    }
    if (blockHeldForOperator(state)) {
      // Whoever wrote it, the block stands until an operator lifts it (adopt, cancel, ctb reconcile —
      // each reconciles in its own process): differences that went away by themselves — the halt's own
      // cancel on Kraken — are still looked at by a person first, and a failed probe changes nothing.
      if (status !== 'blocked') {
        ctx.logger.warn({ version: state.version }, 'reconciliation with Kraken is blocked (bot_state): live trading waits until an operator resolves each difference (ctb reconcile)');
      }
      status = 'blocked';
      return;
    }
    const now = Date.now();
    if (status === 'not_needed') {
      status = 'pending';
      cause = 'mode_live';
    }
    if (status === 'passed') {
      if (now - lastProbeAt < probeMs) return;
      lastProbeAt = now;
      let open: OrderState[];
      try {
        open = await withDeadline(ctx.exchanges.kraken().fetchOpenOrders(), Math.max(5_000, probeMs / 2), 'Kraken OpenOrders');
      } catch (err) {
        status = 'unreachable';
        cause = 'reconnect';
        ctx.logger.warn({ error: describeError(err) }, 'Kraken does not answer: live trading waits for reconciliation once it is back');
        return;
      }
      // An order placed beside the bot (by hand, another program on the key) must not wait for a restart:
      // the full reconciliation, under the order lock, decides — an order of ours caught mid-way passes there.
      const unexplained = await withDeadline(unexplainedOpenOrders(ctx, open), ctx.config.KILL_DB_TIMEOUT, 'the database (order_intents)');
      if (unexplained.length === 0) return;
      cause = 'open_orders';
      ctx.logger.warn({ orders: unexplained.map((d) => `${d.kind} ${d.id}`) }, 'Kraken lists open orders the bot cannot explain: reconciling now');
    } else if (status === 'blocked') {
      // The database no longer holds the block: an operator lifted it. Look once more before trading.
      cause = 'operator';
    } else if (status === 'unreachable' && now - lastAttemptAt < Math.min(probeMs, 5_000 * 2 ** Math.min(failures, 3))) {
      return;
    }
    await reconcile();
  };

  const tick = (): Promise<void> => {
    running ??= decide()
      .catch((err: unknown) => ctx.logger.warn({ error: describeError(err) }, 'reconciliation monitor could not read the database'))
      .finally(() => {
        running = null;
      });
    return running;
  };

  return {
    status: () => status,
    blockReason(mode) {
      // Live (which needs this process armed) waits for a pass, also in the second before a tick notices a switch to live.
      if (mode !== 'live' || status === 'passed') return null;
      return liveReconciliationWhy(status === 'not_needed' ? 'pending' : status);
    },
    async begin(takenOverFrom) {
      if (armed && takenOverFrom) {
        cause = 'takeover';
        const halted = await haltForTakeover(ctx, takenOverFrom).catch((err: unknown) => {
          ctx.logger.error({ err }, 'could not write the takeover halt; live trading still waits for reconciliation');
          return null;
        });
        if (halted) {
          ctx.logger.warn({ takenOverFrom }, 'took over from a dead engine: halted until reconciliation with Kraken passes');
          await ctx.alerts.raise({
            source: 'reconciliation', severity: 'warning', fingerprint: 'engine-takeover',
            title: `Engine taken over from ${takenOverFrom} (its lease went stale): halted until reconciliation with Kraken passes`,
            details: { takenOverFrom },
          }).catch((err: unknown) => ctx.logger.error({ err }, 'could not raise the takeover alert'));
        }
      }
      // The first reconciliation runs beside the engine's start: the gate keeps live trading shut meanwhile.
      void tick();
      if (opts.timer !== false) {
        timer = setInterval(() => void tick(), opts.tickMs ?? 1_000);
        timer.unref();
      }
    },
    tick,
    lastRun: () => last,
    async stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      await running;
    },
  };
}

const monitors = new WeakMap<object, ReconciliationMonitor>();

/** The engine feature registers its monitor so /healthz can say whether live trading waits for it. */
export function setReconciliationMonitor(ctx: { jobs: JobRegistry }, monitor: ReconciliationMonitor | null): void {
  if (monitor) monitors.set(ctx.jobs, monitor);
  else monitors.delete(ctx.jobs);
}

/** This process's gate, when it runs the engine; undefined otherwise. */
export function reconciliationGate(ctx: { jobs: JobRegistry }): GateStatus | undefined {
  return monitors.get(ctx.jobs)?.status();
}
