// The running bot's self-heal watchdog: every WATCHDOG_INTERVAL it runs self-heal (database,
// saved kill, exchange, engine heartbeat) — one run at a time, however long a backoff takes.
// Like self-heal it alerts on every repair, and on a failure when it starts and again every
// TRANSIENT_PAGE_AFTER_MS while it lasts; it never lifts a halt. Its clocks of exchange work (how long
// each piece has been owed, when each alert of it was last raised) are kept in the database by the
// engine lease's holder (watchdog-clocks.ts): the next life of the engine continues them.
import type { Clock } from '../../clock.js';
import type { Config } from '../../config/env.js';
import { ALERTED } from '../../alerts/log-source.js';
import type { Logger } from '../../logger.js';
import { persistedClocks, type PersistedClocks } from './watchdog-clocks.js';
import {
  EXCHANGE_WORK, selfHeal, TRANSIENT_PAGE_AFTER_MS, type DeferredWork, type HealAction, type RaisedAlert, type SelfHealDeps, type SelfHealOptions, type SelfHealResult,
} from './self-heal.js';

export interface Watchdog {
  /** One run (the timer calls it; tests call it). */
  tick(): Promise<SelfHealResult | null>;
  stop(): Promise<void>;
}

export interface WatchdogOptions extends SelfHealOptions {
  intervalMs?: number;
  timer?: boolean;
  /**
   * The id this process holds the engine lease under (undefined: it runs no lease, so it is the only
   * engine): the clocks of exchange work are written for that holder only.
   */
  holderId?: () => string | undefined;
  /** Where the clocks of exchange work are kept between lives of the engine (default: the database, watchdog-clocks.ts). */
  clocks?: PersistedClocks;
  /** Called after a run that found the engine's heartbeat stale (self-heal has alerted already). */
  onEngineStale?: (action: HealAction) => void;
}

/** The watchdog runs self-heal every WATCHDOG_INTERVAL. */
export type WatchdogDeps = SelfHealDeps & { config: Pick<Config, 'WATCHDOG_INTERVAL'> };

export function startWatchdog(ctx: WatchdogDeps, opts: WatchdogOptions = {}): Watchdog {
  let running: Promise<SelfHealResult | null> | null = null;
  // Checks Kraken refused for its rate limit or maintenance, across runs: retried, paged only past a
  // bound; intents a run left unresolved because the order lock was taken (the next run resyncs and
  // reconciles), and a reconciliation a run skipped while orders were in flight or could not be
  // counted (the next run reconciles once none is, and pages once that has lasted the same bound).
  const deferredSince = opts.deferredSince ?? new Map<DeferredWork, number>();
  // When each alert of a check's failure (and of that owed work, and of an unread trading mode) was
  // last raised: raised again while it lasts only every TRANSIENT_PAGE_AFTER_MS, not on every run.
  const raised = opts.raised ?? new Map<RaisedAlert, number>();
  const checkExchange = opts.checkExchange ? standingBy(ctx, opts.checkExchange, deferredSince, raised) : undefined;
  // The clocks of exchange work outlive this process (watchdog-clocks.ts): read on the first pass that
  // does that work (again after standing by, until a read succeeds), written after each pass that did.
  const clocks = opts.clocks ?? persistedClocks(ctx);
  let loaded = false;
  // A read failed in this holding: this process went on with its own clocks, merged with the read ones once read.
  let unread = false;
  // The last write failed: the database does not hold what this process keeps. A brief loss of the
  // lease must not make the next read replace them (an owed period would start again): merged too.
  let unwritten = false;
  const pass = async (): Promise<SelfHealResult> => {
    // Asked once a pass, before the clocks are read: the pass then uses this answer.
    const checks = checkExchange ? checkExchange() : true;
    if (!checks) loaded = unread = false;
    else if (!loaded) {
      loaded = await clocks.load(deferredSince, raised, { merge: unread || unwritten });
      unread = !loaded;
    }
    const result = await selfHeal(ctx, {
      attempts: 3, baseDelayMs: 1_000, ...opts, deferredSince, raised, checkExchange: () => checks, carriedOver: clocks.carriedOver(deferredSince), runBy: 'watchdog',
    });
    if (checks && loaded) unwritten = !(await clocks.save(deferredSince, raised, opts.holderId?.()));
    return result;
  };
  const tick = () => {
    running ??= pass()
      .then((result) => {
        const stale = result.actions.find((a) => a.check === 'engine' && a.status === 'failed');
        if (stale) opts.onEngineStale?.(stale);
        return result;
      })
      .catch((err: unknown) => {
        ctx.logger.error({ err }, 'the self-heal watchdog failed');
        return null;
      })
      .finally(() => {
        running = null;
      });
    return running;
  };
  const timer = opts.timer === false ? undefined : setInterval(() => void tick(), opts.intervalMs ?? ctx.config.WATCHDOG_INTERVAL);
  timer?.unref();
  return {
    tick,
    async stop() {
      if (timer) clearInterval(timer);
      await running;
    },
  };
}

/**
 * `checkExchange`, noting how long this process has stood by (another process holds the engine lease,
 * so this one checks no exchange). Stood by longer than TRANSIENT_PAGE_AFTER_MS, what it owed or raised
 * about the exchange is forgotten: the holder meanwhile resolved and reconciled, so a reconciliation
 * this process still counted as owed since before would, once it takes the lease back, be "owed for
 * hours", and the ledger "not reconciled since", which is not true.
 */
function standingBy(
  ctx: Pick<SelfHealDeps, 'clock'>, checkExchange: () => boolean, deferredSince: Map<DeferredWork, number>, raised: Map<RaisedAlert, number>,
): () => boolean {
  let since: number | null = null;
  return () => {
    const checks = checkExchange();
    const now = ctx.clock.now().getTime();
    if (!checks) since ??= now;
    if (since !== null && now - since > TRANSIENT_PAGE_AFTER_MS) {
      for (const work of EXCHANGE_WORK) deferredSince.delete(work);
      for (const key of raised.keys()) if (EXCHANGE_WORK.some((work) => key.startsWith(`${work}:`))) raised.delete(key);
    }
    if (checks) since = null;
    return checks;
  };
}

/**
 * What the process that runs the engine does about a stale heartbeat when ENGINE_STALE_ACTION says
 * exit: a stuck loop cannot be restarted safely inside the process (it could wake and send a
 * duplicate), so the process exits and its manager starts a fresh one, which resolves pending orders
 * against the exchange before trading. Kraken's dead man's switch stays armed over the gap.
 */
export function exitForRestart(ctx: { logger: Logger }, action: HealAction, exit: (code: number) => void = (code) => process.exit(code)): void {
  ctx.logger.fatal({ ...ALERTED, action }, `engine heartbeat stale (${action.detail}); exiting so the process manager restarts the worker`);
  // Give the log line (and the alert raised just before) a moment to leave the process.
  setTimeout(() => exit(ENGINE_STALE_EXIT_CODE), 500).unref?.();
}

/** Exit code of a worker that stopped itself over a stale engine (EX_SOFTWARE). */
export const ENGINE_STALE_EXIT_CODE = 70;

/**
 * The watchdog's reaction to a stale engine in this process, per ENGINE_STALE_ACTION (auto: exit for
 * `--role worker`, alert otherwise), or undefined when it only alerts. It acts only in the process
 * that runs the engine, and not within ENGINE_STALE_AFTER of start (the heartbeat is the previous
 * run's until the engine has started), so a slow start cannot become a restart loop.
 */
export function staleEngineHandler(
  ctx: { config: Pick<Config, 'ENGINE_STALE_ACTION' | 'ENGINE_STALE_AFTER'>; clock: Clock; logger: Logger },
  opts: { role: string; runsEngine: () => boolean; startedAt: Date; exit?: (code: number) => void },
): ((action: HealAction) => void) | undefined {
  const configured = ctx.config.ENGINE_STALE_ACTION;
  const action = configured === 'auto' ? (opts.role === 'worker' ? 'exit' : 'alert') : configured;
  if (action !== 'exit') return undefined;
  return (stale) => {
    if (!opts.runsEngine()) return;
    if (ctx.clock.now().getTime() - opts.startedAt.getTime() <= ctx.config.ENGINE_STALE_AFTER) return;
    exitForRestart(ctx, stale, opts.exit);
  };
}
