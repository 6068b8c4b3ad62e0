// Owns the engine loop: tick → strategy → filters → sizing → risk guard → intent → exchange → fill
// → ledger. Strategy state, the portfolio and the risk marks live in memory; the database is written
// on orders, fills, closes, risk events and throttled equity snapshots only, so a replay runs at full
// speed. bot_state is re-read under the order lock before every order (halted ⇒ nothing trades), and
// polled with the heartbeat so a mode switch, a halt or a resume is seen within a second. While halted,
// the book follows the ledger: a flatten here signals it, and before each snapshot the ledger's open
// trades are compared with the book's (a flatten elsewhere). Beside the
// loop run the fill follower (every order still in flight asked again every few seconds, its new fills
// booked) and the feed watch (a polling feed silent for several intervals raises an alert).
import { performance } from 'node:perf_hooks';
import { ALERTED } from '../alerts/log-source.js';
import type { AlertInput } from '../alerts/types.js';
import { clockPast, type ManualClock } from '../clock.js';
import type { Config } from '../config/env.js';
import type { BotState } from '../db/schema/index.js';
import { isAppError, isProgramError } from '../errors.js';
import type { ExchangeProvider } from '../exchange/provider.js';
import type { Exchange, Market } from '../exchange/types.js';
import type { MarketFeed, MarketTick } from '../market/types.js';
import { sleep } from '../market/sleep.js';
import { Decimal, str } from '../money.js';
import { backoffDelay, type Backoff } from '../retry.js';
import { beatAndGetBotState, effectiveMode, getBotState, touchHeartbeat, type Mode } from '../services/bot-state.js';
import { alreadyHaltedText, engineHaltedText, haltByEngine } from '../services/engine-halt.js';
import { isHaltLatched } from '../services/kill/runtime.js';
import { bookOf } from '../services/stats/compute-stats.js';
import { BackoffLog } from './backoff-log.js';
import { engineMetrics, type EngineMetrics } from './engine-metrics.js';
import { ExecutionsFollower } from './executions-follower.js';
import { FeedWatch, publishFeedWatch, type FeedWatchThresholds } from './feed-watch.js';
import { ENTRY_COST_ALLOWANCE_PCT } from './in-flight.js';
import { unresolvedIntents } from './ledger/intents.js';
import { withOrderLock } from './order-lock.js';
import { readableAmount } from './trade-log.js';
import { SnapshotWriter } from './ledger/snapshots.js';
import { SnapshotRows } from './snapshot-rows.js';
import { openTrades } from './ledger/trades.js';
import { executeOrder, type OrderPathDeps, type OrderHooks, type OrderOutcome, type OrderRequestSpec } from './order-executor.js';
import { executePaperOrder } from './paper-order.js';
import type { IntentLease } from './ledger/intent-lease.js';
import { VenueHolds } from './venue-hold.js';
import { PaperExchange } from '../exchange/paper/paper-exchange.js';
import { Portfolio } from './portfolio.js';
import { followIntents, resolveIntents } from './recovery.js';
import { RiskGuard, type HardBreachListener, type RiskBreach } from './risk-guard.js';
import { loadStrategies, type StrategyDefinition } from './strategies/config.js';
import { buildStrategy } from './strategies/build.js';
import type { Strategy } from './strategies/types.js';
import { sizeEntry } from './sizing.js';
import { decideExit } from './exits.js';
import { exitPosition, setRunningEngine, Turns, type ManualExitOutcome, type RunningEngine } from './manual-exit.js';
import { dec } from '../money.js';

/**
 * What the engine needs: one order's path (ledger, gate, funds, lock, halt latch, alerts, counters),
 * each venue, and the configuration (strategies file, risk limits, snapshot interval). The object is
 * also what the running engine is registered under (manual-exit.ts) and the gate keeps its state by.
 */
export type EngineDeps = OrderPathDeps & { exchanges: ExchangeProvider; config: Config };

export interface EngineOptions {
  ctx: EngineDeps;
  feed: MarketFeed;
  /**
   * Whose engine lease its order intents are written under (ledger/intent-lease.ts): the running bot's
   * engine passes its keeper's holder id; a test's or bench's engine, alone on its database by
   * construction, says so (ALONE_BY_CONSTRUCTION). Required: no engine skips the check by omission.
   */
  lease: IntentLease;
  /** Defaults to the enabled strategies of the configured strategies file. */
  strategies?: StrategyDefinition[];
  /** Replays and tests: the clock is moved to each candle's close, so the ledger follows market time. */
  marketClock?: ManualClock;
  /** Told when drawdown passes RISK_HARD_DRAWDOWN_PCT (the kill switch subscribes). */
  onHardBreach?: HardBreachListener;
  hooks?: OrderHooks;
  /** Tests and benches: return once the feed is exhausted instead of idling. */
  stopWhenFeedEnds?: boolean;
  /**
   * Asked before strategies run and again before each order: a reason not to trade now (this process
   * no longer holds the engine lease; live trading waits for reconciliation against Kraken), or null.
   */
  gate?: (state: BotState, mode: Mode) => string | null;
  housekeepingMs?: number;
  /** How often orders in flight are asked about again (default 3 s: Kraken's starter tier decays one call per 3 s). */
  fillFollowMs?: number;
  /** The silent-feed alert's hysteresis (feed-watch.ts); the defaults unless a test shortens them. */
  feedWatch?: Partial<FeedWatchThresholds>;
  /**
   * Market time between equity snapshots (default EQUITY_SNAPSHOT_INTERVAL). The running bot's replay
   * sets one candle, so a replay played in minutes still draws a point per candle on the chart.
   */
  snapshotEveryMs?: number;
  /** Wall time between progress lines (market time, candles, equity, positions); none when unset. */
  progressEveryMs?: number;
  /** Called once the engine is prepared and its first feed pass (the warm-up) is handled or failed. */
  onStarted?: () => void;
}

interface Binding {
  def: StrategyDefinition;
  strategy: Strategy;
}

const MINUTE = 60_000;
/** 1 s, 2 s, 4 s … at most a minute: the loop's wait after an error, and new orders' after a bad one. */
const BACKOFF: Backoff = { baseMs: 1000, maxMs: 60_000 };
const FILL_FOLLOW_MS = 3_000;

export class Engine implements RunningEngine {
  readonly #ctx: EngineDeps;
  /** The loop's ticks and operators' exits take turns: an exit never lands inside a tick. */
  readonly #turns = new Turns();
  readonly #bindings = new Map<string, Binding[]>();
  readonly #metrics: EngineMetrics;
  readonly #snapshots: SnapshotWriter;
  readonly #snapshotRows = new SnapshotRows();
  /** Live fills booked as Kraken streams them (executions channel); the REST follower stays beside it. */
  readonly #executions: ExecutionsFollower;
  #state!: BotState;
  #mode: Mode = 'paper';
  #exchange!: Exchange;
  #portfolio!: Portfolio;
  #risk!: RiskGuard;
  #markets = new Map<string, Market>();
  #resolveNeeded = false;
  /** Live mode on a feed that is not a real market: nothing is ordered (set by prepare). */
  #liveFeedRefused = false;
  readonly #stuckAlerted = new Set<number>();
  /** An order's outcome is unknown: ask the exchange at the next housekeeping, not a follower period later. */
  #followSoon = false;
  #feedWatch: FeedWatch | undefined;
  /** Errors in a row in the loop (the feed, the database): its wait grows with them; back to none once a batch goes through. */
  #loopFailures = 0;
  readonly #backoffLog: BackoffLog;
  /** Orders in a row whose outcome is unknown or that were refused: new orders wait longer each time; none after one is recorded. */
  #orderFailures = 0;
  #blockedUntil = 0;
  /** Orders Kraken refused for a venue-wide reason: not sent again on every candle. */
  readonly #holds: VenueHolds;
  #lastHousekeeping = 0;
  #lastProgress = performance.now();
  #lastMarketTime: Date | null = null;
  /** This candle's exact equity, once #exactEquity has worked it out (reset at each candle). */
  #exactNow: Decimal | undefined;
  /**
   * The book's exact equity at this candle's prices, worked out at most once a candle and only when
   * something asks for it (a new peak, a new day, a snapshot, a breach). These two functions are made
   * once, not per candle: the shipped build keeps functions' names, which costs a defineProperty for
   * every function made: a tenth of a candle's work when four were made each candle (two here, two
   * in the risk guard).
   */
  readonly #exactEquity = (): Decimal => (this.#exactNow ??= this.#portfolio.exactEquity(this.ctx.prices));
  readonly #exactDrawdownPct = (equity: Decimal): Decimal => this.#risk.exactDrawdownPct(equity);
  /** The clock's reading when the last equity snapshot was taken: orders are stamped after it. */
  #lastSnapshotMs = Number.NEGATIVE_INFINITY;
  #abort = new AbortController();
  #running: Promise<void> | undefined;
  readonly counts = { candles: 0, orders: 0, entries: 0, exits: 0, skipped: 0 };

  constructor(private readonly opts: EngineOptions) {
    this.#ctx = opts.ctx;
    this.#metrics = engineMetrics(opts.ctx.metrics);
    this.#snapshots = new SnapshotWriter(opts.ctx.db, opts.snapshotEveryMs ?? opts.ctx.config.EQUITY_SNAPSHOT_INTERVAL);
    this.#executions = new ExecutionsFollower({ ctx: opts.ctx, portfolio: () => this.#portfolio });
    this.#holds = new VenueHolds(opts.ctx);
    this.#backoffLog = new BackoffLog(opts.ctx.logger);
    const defs = (opts.strategies ?? loadStrategies(opts.ctx.config).strategies).filter((d) => d.enabled);
    for (const def of defs) {
      for (const symbol of def.pairs) {
        const list = this.#bindings.get(symbol) ?? [];
        list.push({ def, strategy: buildStrategy(def) });
        this.#bindings.set(symbol, list);
      }
    }
  }

  get mode(): Mode {
    return this.#mode;
  }

  get portfolio(): Portfolio {
    return this.#portfolio;
  }

  /** The executions stream this engine books from (live on Kraken), for health and tests. */
  get executions(): ExecutionsFollower {
    return this.#executions;
  }

  /** Resolves pending intents and loads the account: run before the first candle (start() does). */
  async prepare(): Promise<void> {
    const { ctx } = this;
    const state = await getBotState(ctx.db);
    const mode = effectiveMode(state, ctx.config.IS_LIVE);
    const exchange = ctx.exchanges.forMode(mode);
    // Under the order lock: the fill follower never books into a portfolio being replaced.
    await withOrderLock(ctx, async () => {
      const resolution = await resolveIntents({ ctx, mode, exchange });
      this.#portfolio = await Portfolio.load(exchange, await openTrades(ctx.db, mode), ctx.config.QUOTE_CURRENCY, resolution.inFlight);
      this.#state = state;
      this.#mode = mode;
      this.#exchange = exchange;
    }, { crossProcess: mode === 'live' });
    // Live: Kraken's clock read beside the market load, so the first order waits for no reading of it.
    if (mode === 'live') void this.#exchange.prepareOrders?.();
    this.#markets = new Map((await this.#exchange.loadMarkets()).map((m) => [m.symbol, m]));
    this.#risk = new RiskGuard({
      db: ctx.db, clock: ctx.clock, alerts: ctx.alerts, logger: ctx.logger, onHardBreach: this.opts.onHardBreach, rehearsal: this.opts.feed.kind !== 'kraken',
      limits: { maxDrawdownPct: ctx.config.RISK_MAX_DRAWDOWN_PCT, dailyLossPct: ctx.config.RISK_DAILY_LOSS_PCT, hardDrawdownPct: ctx.config.RISK_HARD_DRAWDOWN_PCT },
    }, this.#mode);
    await this.#risk.load(ctx.clock.now(), this.#state.entriesPaused);
    this.#liveFeedRefused = this.#mode === 'live' && this.opts.feed.kind !== 'kraken';
    if (this.#liveFeedRefused) {
      ctx.logger.error({ ...ALERTED, feed: this.opts.feed.kind }, 'live mode on a feed that is not a real market: the engine places no orders');
      await ctx.alerts.raise({
        source: 'engine', severity: 'critical', fingerprint: 'live_feed_not_market',
        title: `The bot is live but the engine runs on the ${this.opts.feed.kind} feed: it places no orders (live orders are never priced from replayed history)`,
        details: { feed: this.opts.feed.kind },
      });
    }
    ctx.logger.info({
      mode: this.#mode, feed: this.opts.feed.kind, cash: str(this.#portfolio.cash), open: this.#portfolio.positions.size, inFlight: this.#portfolio.inFlight.size,
    }, 'engine ready');
  }

  /** One pass of the fill follower: new fills of the orders in flight booked into the portfolio. */
  async followFills(): Promise<void> {
    const { ctx } = this;
    if (!this.#portfolio) return;
    await this.#followLeftBehind();
    if (this.#portfolio.inFlight.size === 0 && (await unresolvedIntents(ctx.db, this.#mode)).length === 0) return;
    const report = await withOrderLock(ctx, () => followIntents({
      ctx, mode: this.#mode, exchange: this.#exchange, portfolio: this.#portfolio, stuckAlerted: this.#stuckAlerted,
    }), { crossProcess: this.#mode === 'live' });
    // Another process booked something this portfolio was waiting for: read the account again.
    if (report.resolvedElsewhere > 0) this.#resolveNeeded = true;
  }

  /**
   * Orders still in flight in the other mode are booked in their own book, never this one. Live
   * orders left when the bot went back to paper (a kill does) are Kraken's all the same: while this
   * process holds the key they are followed up and booked, outside the paper book. Paper orders left
   * when the bot went live are the paper venue's (in the database, no key needed): followed up and
   * booked into the paper book, which stays set aside while live (mode/paper-set-aside.ts).
   */
  async #followLeftBehind(): Promise<void> {
    const { ctx } = this;
    const other = this.#mode === 'paper' ? 'live' : 'paper';
    if (other === 'live' && !ctx.exchanges.hasKrakenKeys()) return;
    if ((await unresolvedIntents(ctx.db, other)).length === 0) return;
    await withOrderLock(ctx, () => resolveIntents({ ctx, mode: other, exchange: ctx.exchanges.forMode(other) }));
  }

  async #every(ms: number, signal: AbortSignal, what: string, fn: () => Promise<void>): Promise<void> {
    let bugs = 0;
    while (!signal.aborted) {
      await sleep(ms, signal);
      if (signal.aborted) break;
      try {
        await fn();
        bugs = 0;
      } catch (err) {
        if (!isProgramError(err)) {
          this.ctx.logger.warn({ err }, `${what} failed; will retry`);
          continue;
        }
        // A bug (TypeError…) fails every pass alike: following orders in flight is how their fills
        // are booked, so it is an error that pages once (and is logged every 100th pass), not a
        // warning repeated every few seconds while nothing is booked.
        bugs += 1;
        if (bugs !== 1 && bugs % 100 !== 0) continue;
        const msg = `${what} failed: a program error, not a passing one; still trying`;
        if (bugs !== 1) this.ctx.logger.error({ ...ALERTED, err, passes: bugs }, msg);
        else await this.#page({ source: 'engine', severity: 'critical', title: `Engine error while ${what}: ${(err as Error).message}`, fingerprint: `engine_error:${what}` }, { err, passes: bugs }, msg);
      }
    }
  }

  /**
   * An error with its own page: logged marked ALERTED (the log source lets it be), then paged. A page
   * that cannot be raised is logged again unmarked, so the log source pages it instead of no one.
   */
  async #page(alert: AlertInput, fields: Record<string, unknown>, msg: string): Promise<void> {
    this.ctx.logger.error({ ...ALERTED, ...fields }, msg);
    await this.ctx.alerts.raise(alert).catch((raiseErr: unknown) => {
      this.ctx.logger.error({ ...fields, alertError: raiseErr instanceof Error ? raiseErr.message : String(raiseErr) }, `${msg} (its alert could not be raised)`);
    });
  }

  private get ctx(): EngineDeps {
    return this.#ctx;
  }

  start(): Promise<void> {
    setRunningEngine(this.#ctx, this);
    this.#running ??= this.#run().finally(() => setRunningEngine(this.#ctx, null, this));
    return this.#running;
  }

  /** An operator's exit of one open trade, through this engine's own order path (manual-exit.ts). */
  exitTrade(tradeId: number, reason: string): Promise<ManualExitOutcome> {
    return this.#turns.run(() => {
      const blocked = this.#resolveNeeded
        ? "an earlier order's outcome is still being resolved against the exchange"
        : this.#portfolio?.exitInFlight(tradeId)
          ? `an exit of trade #${tradeId} is already on its way; it is followed up with the exchange`
          : (this.opts.gate?.(this.#state, this.#mode) ?? null);
      return exitPosition({ mode: this.#mode, portfolio: this.#portfolio, blocked, order: (spec) => this.#order(spec) }, tradeId, reason);
    });
  }

  openTradeIds(): number[] | null {
    return this.#portfolio ? [...this.#portfolio.positions.keys()] : null;
  }

  async stop(): Promise<void> {
    this.#abort.abort();
    await this.#running?.catch(() => undefined);
  }

  async #run(): Promise<void> {
    const signal = this.#abort.signal;
    await this.#retrying(() => this.prepare(), signal);
    if (this.#exchange) this.#executions.attach(this.#mode, this.#exchange);
    // The follower and the watch run beside the loop and stop with it.
    const beside = new AbortController();
    const stopBeside = () => beside.abort();
    signal.addEventListener('abort', stopBeside, { once: true });
    const pollMs = this.opts.feed.pollIntervalMs;
    this.#feedWatch = pollMs ? new FeedWatch({
      alerts: this.ctx.alerts, logger: this.ctx.logger, pollMs, feed: this.opts.feed.kind, ...(this.opts.feedWatch ? { thresholds: this.opts.feedWatch } : {}),
    }) : undefined;
    // /healthz reads it: a feed that never answered is not reported as a healthy bot.
    const feedWatch = this.#feedWatch;
    if (feedWatch) publishFeedWatch(this.ctx.database, feedWatch);
    const besides = [
      this.#every(this.opts.fillFollowMs ?? FILL_FOLLOW_MS, beside.signal, 'following orders in flight', () => this.followFills()),
      ...(this.#feedWatch ? [this.#feedWatch.run(beside.signal)] : []),
    ];
    try {
      await this.#loop(signal);
    } finally {
      beside.abort();
      signal.removeEventListener('abort', stopBeside);
      await Promise.all(besides);
      await this.#executions.settled();
      this.#executions.detach();
      if (feedWatch) publishFeedWatch(this.ctx.database, null, feedWatch);
    }
    await this.#snapshots.flush().catch((err: unknown) => this.ctx.logger.error({ err }, 'could not write the last equity snapshots'));
  }

  async #loop(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        const batch = await this.opts.feed.next(signal);
        if (batch === null) {
          this.#feedWatch?.ended();
          if (this.opts.stopWhenFeedEnds) {
            await this.followFills().catch((err: unknown) => (isProgramError(err) ? this.ctx.logger.error({ err }, 'the last pass over orders in flight failed: a program error')
              : this.ctx.logger.warn({ err }, 'the last pass over orders in flight failed')));
            break;
          }
          // The whole replay's curve is on the chart once the feed says it is done.
          await this.#snapshots.flush();
          this.ctx.logger.info('market feed finished; the engine keeps its heartbeat');
          while (!signal.aborted) {
            await sleep(this.opts.housekeepingMs ?? 1000, signal);
            await this.#turns.run(() => this.#housekeeping(true)).catch((err: unknown) => this.ctx.logger.error({ err }, 'engine housekeeping failed'));
          }
          break;
        }
        this.#feedWatch?.answered();
        for (const tick of batch) await this.#turns.run(() => this.#onTick(tick));
        this.#metrics.candles.inc(batch.length);
        this.#setMarks();
        await this.#turns.run(() => this.#housekeeping(false));
        this.#progress();
        this.#loopFailures = 0;
        this.#started();
      } catch (err) {
        this.#started();
        await this.#onLoopError(err, signal);
      }
    }
  }

  #startedTold = false;

  #started(): void {
    if (this.#startedTold) return;
    this.#startedTold = true;
    this.opts.onStarted?.();
  }

  async #retrying(fn: () => Promise<void>, signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        return await fn();
      } catch (err) {
        await this.#onLoopError(err, signal);
      }
    }
  }

  async #onLoopError(err: unknown, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return;
    const { ctx } = this;
    if (isAppError(err, 'auth') || isAppError(err, 'halt')) {
      const cause = (err as Error).message;
      // Over a kill's or an operator's halt, that halt stays as it is: its author decides what lifts it.
      // One an automatic lift would lift (reconciliation's) the engine takes over: its cause waits for an operator.
      const halt = await haltByEngine(ctx.db, ctx.clock, cause).catch((writeErr: unknown) => {
        ctx.logger.error({ err: writeErr }, `the engine's halt could not be written (${cause})`);
        return null;
      });
      const title = !halt ? `The engine's halt could not be written to the database: ${cause}`
        : halt.placed ? engineHaltedText(halt, cause) : alreadyHaltedText(halt.standing, cause);
      if (halt && !halt.placed) ctx.logger.error({ err, standingHalt: halt.standing }, title);
      await ctx.alerts.raise({ source: 'exchange', severity: 'critical', title, fingerprint: 'engine_halted_auth', ...(halt && !halt.placed ? { details: { standingHalt: halt.standing } } : {}) });
    } else if (!isAppError(err, 'retryable')) {
      await this.#page({ source: 'engine', severity: 'critical', title: `Engine error: ${(err as Error)?.message ?? String(err)}`, fingerprint: 'engine_loop_error' }, { err }, 'engine loop error');
    }
    this.#loopFailures += 1;
    const delay = backoffDelay(BACKOFF, this.#loopFailures);
    if (isAppError(err, 'retryable')) this.#backoffLog.backingOff(err, this.#loopFailures, delay);
    await this.#waitAlive(delay, signal);
  }

  /**
   * Backing off is waiting, not hanging: the heartbeat is kept meanwhile (a failed write is let be),
   * so a minute of feed trouble is not reported — or, for a worker, restarted — as a stuck engine.
   */
  async #waitAlive(ms: number, signal: AbortSignal): Promise<void> {
    const until = performance.now() + ms;
    const beat = Math.max(50, Math.min(this.opts.housekeepingMs ?? 1000, 5_000));
    for (let left = ms; left > 0 && !signal.aborted; left = until - performance.now()) {
      await sleep(Math.min(beat, left), signal);
      if (!signal.aborted && until - performance.now() > 0) await touchHeartbeat(this.ctx.db).catch(() => undefined);
    }
  }

  async #housekeeping(force: boolean): Promise<void> {
    const now = performance.now();
    if (!force && now - this.#lastHousekeeping < (this.opts.housekeepingMs ?? 1000)) return;
    this.#lastHousekeeping = now;
    const { ctx } = this;
    this.#metrics.executionsUp.set(this.#mode === 'live' && this.#executions.healthy ? 1 : 0);
    const previous = this.#state;
    // The beat and the read in one statement: the row as the heartbeat leaves it.
    this.#state = await beatAndGetBotState(ctx.db);
    if (effectiveMode(this.#state, ctx.config.IS_LIVE) !== this.#mode) {
      ctx.logger.info({ from: this.#mode, to: effectiveMode(this.#state, ctx.config.IS_LIVE) }, 'engine mode changed');
      await this.#snapshots.flush();
      await this.prepare();
      this.#executions.attach(this.#mode, this.#exchange);
      return;
    }
    // A halt may have been used to flatten positions behind the engine's back: re-read the account.
    if (previous.halted && !this.#state.halted) this.#resolveNeeded = true;
    // Entries resumed: only a forced unpause's recorded re-arm resets the guard's peak or day's opening.
    if ((previous.entriesPaused || this.#risk.paused) && !this.#state.entriesPaused) {
      await this.#snapshots.flush();
      await this.#risk.followRearm(this.#portfolio.equity(ctx.prices), ctx.clock.now(), () => this.#portfolio.exactEquity(ctx.prices));
    }
    this.#risk.entriesPaused = this.#state.entriesPaused;
    if (this.#followSoon) {
      this.#followSoon = false;
      await this.followFills();
    }
    if (this.#resolveNeeded) await this.#reloadBook();
    // Started, not waited for (unless the writes have fallen behind): a replay's candles go on meanwhile.
    await this.#snapshots.writeBehind();
  }

  /**
   * The ledger of this engine's book changed outside the engine (a flatten carried out in this
   * process): the book is read again from the database before the next snapshot or order.
   */
  ledgerChanged(): void {
    this.#resolveNeeded = true;
  }

  /** Pending intents resolved and the portfolio loaded again from the ledger. */
  async #reloadBook(): Promise<void> {
    const { ctx } = this;
    await withOrderLock(ctx, async () => {
      // Cleared before reading, under the lock: a change signalled while this reads is read next time.
      this.#resolveNeeded = false;
      try {
        const resolution = await resolveIntents({ ctx, mode: this.#mode, exchange: this.#exchange });
        this.#portfolio = await Portfolio.load(this.#exchange, await openTrades(ctx.db, this.#mode), ctx.config.QUOTE_CURRENCY, resolution.inFlight);
      } catch (err) {
        this.#resolveNeeded = true;
        throw err;
      }
    }, { crossProcess: this.#mode === 'live' });
  }

  /**
   * While halted, a position may be closed behind the engine's back (a flatten, by whichever process):
   * before a snapshot, the book's open trades are compared with the ledger's, and on any difference
   * the book is read again, so no snapshot shows a position the ledger has closed.
   */
  async #bookDiffersFromLedger(): Promise<boolean> {
    const open = await openTrades(this.ctx.db, this.#mode);
    const book = this.#portfolio.positions;
    return open.length !== book.size || open.some((t) => !book.get(t.id)?.quantity.eq(t.quantity));
  }

  async #onTick(tick: MarketTick): Promise<void> {
    const { ctx } = this;
    const { candle } = tick;
    ctx.prices.update(tick);
    const closedAt = new Date(candle.openTime.getTime() + MINUTE);
    this.#lastMarketTime = closedAt;
    this.opts.marketClock?.set(closedAt);
    this.counts.candles += 1;
    const bindings = this.#bindings.get(candle.symbol);
    if (!bindings) return;
    const signals = bindings.map((b) => b.strategy.update(candle));
    if (tick.warmup) return;
    const halted = this.#state.halted || isHaltLatched(ctx);
    if (!this.#resolveNeeded && halted && this.#snapshots.due(closedAt) && await this.#bookDiffersFromLedger()) this.#resolveNeeded = true;
    if (this.#resolveNeeded) await this.#reloadBook();
    const at = ctx.clock.now();
    // Floats for the per-candle check; the exact equity is worked out only when something is stored.
    const equity = this.#portfolio.equity(ctx.prices);
    this.#exactNow = undefined;
    const exactEquity = this.#exactEquity;
    const breaches = this.#risk.observe(equity, at, exactEquity);
    // Throttled on market time (the candle's close), stamped with the clock like the trades beside it:
    // a replay played at 200 ms a candle gets a snapshot per candle interval, not one per 15 wall minutes.
    // A snapshot at t is the book with every fill stamped ≤ t and none stamped after (the ROI audit
    // counts a trade as held at it when entry_at ≤ t): so it is never stamped before a fill it holds
    // (a live fill carries Kraken's time), this step's orders are stamped after its millisecond
    // (#order), and none is taken while an order's fills are still unknown — those would be neither
    // in its cash nor surely after it — unless a risk breach needs it now.
    if (breaches.length > 0 || this.#portfolio.inFlight.size === 0) {
      this.#snapshots.offer(closedAt, () => {
        this.#lastSnapshotMs = at.getTime();
        const stamp = at.getTime() >= this.#portfolio.latestFillMs ? at : new Date(this.#portfolio.latestFillMs);
        return {
          mode: this.#mode, feed: this.opts.feed.kind, at: stamp,
          ...this.#snapshotRows.figures({
            cash: this.#portfolio.cash, marks: this.#portfolio.marks(ctx.prices), equity: exactEquity, peak: this.#risk.peakExact,
            drawdownPct: this.#exactDrawdownPct,
          }),
        };
      }, breaches.length > 0);
    }
    if (breaches.length > 0) {
      // A hard breach goes first: its kill cancels on the exchange before the snapshot and breach writes.
      const isHard = (b: RiskBreach) => b.kind === 'hard_drawdown';
      for (const breach of breaches.filter(isHard)) await this.#risk.handle(breach);
      await this.#snapshots.flush();
      for (const breach of breaches.filter((b) => !isHard(b))) await this.#risk.handle(breach);
      this.#state = await getBotState(ctx.db);
    } else {
      this.#snapshots.flushIfFull();
    }
    if (this.#state.halted || isHaltLatched(ctx) || this.#resolveNeeded || this.#liveFeedRefused || performance.now() < this.#blockedUntil) return;
    if (this.opts.gate?.(this.#state, this.#mode)) return;
    for (let i = 0; i < bindings.length; i++) {
      const { def } = bindings[i]!;
      const signal = signals[i]!;
      const position = this.#portfolio.positionFor(def.name, candle.symbol);
      if (position) {
        // An exit already in flight for this trade is followed up, never sent twice.
        if (this.#portfolio.exitInFlight(position.tradeId)) continue;
        const reason = decideExit(def, signal, position.entryPrice, candle);
        if (reason && !(await this.#holds.mayGo({ purpose: 'exit', strategy: def.name, symbol: candle.symbol }, this.#exchange))) continue;
        if (reason) await this.#order({ purpose: 'exit', strategy: def.name, symbol: candle.symbol, side: 'sell', quantity: position.quantity, tradeId: position.tradeId, reason });
        continue;
      }
      if (signal.action !== 'buy' || this.#state.entriesPaused) continue;
      // An entry in flight holds its strategy and pair until its fills are booked.
      if (this.#portfolio.entryInFlight(def.name, candle.symbol)) continue;
      if (signal.confidence < def.limits.minConfidence) continue;
      if ((ctx.prices.quoteVolume24h(candle.symbol) ?? 0) < def.limits.minVolume24hQuote) continue;
      if (this.#portfolio.openCount(def.name) >= def.limits.maxOpenPositions) continue;
      const market = this.#markets.get(candle.symbol);
      if (!market) continue;
      if (!(await this.#holds.mayGo({ purpose: 'entry', strategy: def.name, symbol: candle.symbol }, this.#exchange))) continue;
      const sized = sizeEntry({
        equity: this.#portfolio.exactEquity(ctx.prices), cash: this.#portfolio.availableCash(ctx.prices), price: candle.close, limits: def.limits,
        reservePct: ctx.config.CAPITAL_RESERVE_PCT, costAllowancePct: ENTRY_COST_ALLOWANCE_PCT, market,
      });
      if (!sized.ok) {
        this.counts.skipped += 1;
        continue;
      }
      await this.#order({
        purpose: 'entry', strategy: def.name, symbol: candle.symbol, side: 'buy', quantity: sized.quantity, reason: signal.reason, referencePrice: dec(candle.close),
      });
    }
  }

  /** Between trades, a line now and then so a person watching sees the engine work through the feed. */
  #progress(): void {
    const every = this.opts.progressEveryMs;
    const now = performance.now();
    if (!every || now - this.#lastProgress < every || !this.#lastMarketTime || !this.#portfolio) return;
    this.#lastProgress = now;
    const { ctx } = this;
    const quote = ctx.config.QUOTE_CURRENCY;
    const equity = this.#portfolio.equity(ctx.prices);
    const start = this.#risk?.peak;
    const at = this.#lastMarketTime.toISOString().slice(0, 16).replace('T', ' ');
    const open = this.#portfolio.positions.size;
    // A halt (ctb kill, a hard breach) stops every order: the line watched between trades says so.
    const halted = this.#state.halted || isHaltLatched(ctx);
    const why = this.#state.haltedReason ? `: ${this.#state.haltedReason}${this.#state.haltedBy ? ` (by ${this.#state.haltedBy})` : ''}` : '';
    ctx.logger.info(
      {
        event: 'progress', feed: this.opts.feed.kind, marketTime: this.#lastMarketTime.toISOString(), candles: this.counts.candles, equity: equity.toFixed(2), currency: quote, open, orders: this.counts.orders,
        ...(halted ? { halted: true } : {}),
      },
      `${this.opts.feed.kind} at ${at} UTC: ${this.counts.candles} candles, equity ${readableAmount(equity)} ${quote}` +
        `${start ? ` (peak ${readableAmount(start)})` : ''}, ${open} open, ${this.counts.orders} orders` +
        (halted ? `; HALTED${why}, no orders until \`ctb resume\`` : ''),
    );
  }

  /**
   * The live marks on /metrics: only the book traded now has a series (a mode switch drops the old
   * one). Set once per feed batch, after its candles, not per candle: a live feed's batch is one
   * candle close, a fast replay's 2,000 candles (a fraction of a second). Only a scrape reads them;
   * one that lands inside a replay's batch (while an order's statement is out) shows the batch before.
   */
  #setMarks(): void {
    if (!this.#portfolio || !this.#risk) return;
    const equity = this.#portfolio.equity(this.ctx.prices);
    const book = bookOf(this.#mode, this.opts.feed.kind);
    this.#metrics.equity.reset();
    this.#metrics.equity.set({ book, currency: this.ctx.config.QUOTE_CURRENCY }, equity);
    this.#metrics.drawdown.reset();
    this.#metrics.drawdown.set({ book }, this.#risk.drawdownPct(equity) / 100);
  }

  async #order(spec: OrderRequestSpec): Promise<OrderOutcome> {
    // Not holding the engine lease, or live before reconciliation passed: no order leaves (as if halted).
    if (this.opts.gate?.(this.#state, this.#mode)) return { kind: 'skipped', reason: 'halted' };
    // Its intent and (paper) fill are stamped after the last snapshot's millisecond, never in it: that
    // snapshot's cash is from before this order (a replay's market clock moves on a millisecond).
    await clockPast(this.ctx.clock, this.#lastSnapshotMs);
    // Every order of the engine — entries, strategy and risk exits, an operator's exit — is written under
    // its lease: an exit is a trading decision on the engine's book too, and once another engine took the
    // lease over (halted until it has reconciled with Kraken) that book is the new engine's; the old one
    // selling a position beside it could sell it twice. A kill's flatten, which only removes risk, asks
    // no lease (flatten.ts).
    const deps = { ctx: this.ctx, mode: this.#mode, feed: this.opts.feed.kind, portfolio: this.#portfolio, lease: this.opts.lease };
    // A paper order on the venue in this process is one statement (paper-order.ts). The crash test's
    // hooks stop between the steps of the intent → send → record path, which every live order takes.
    const exchange = this.#exchange;
    const outcome: OrderOutcome = this.#mode === 'paper' && !this.opts.hooks && PaperExchange.isVenue(exchange)
      ? await executePaperOrder({ ...deps, exchange }, spec)
      : await executeOrder({ ...deps, exchange, hooks: this.opts.hooks }, spec);
    this.#metrics.orders.inc({ outcome: outcome.kind });
    await this.#holds.settle(spec, outcome);
    if (outcome.kind === 'recorded') {
      this.counts.orders += 1;
      if (spec.purpose === 'entry') this.counts.entries += 1;
      else this.counts.exits += 1;
      this.#orderFailures = 0;
    } else if (outcome.kind === 'unknown' || outcome.kind === 'refused') {
      if (outcome.kind === 'unknown') this.#followSoon = true;
      // The order stays in flight (unknown) or was not sent (refused): the follower resolves the first;
      // both back off so a failing exchange or an empty account is not hammered every candle.
      this.#orderFailures += 1;
      this.#blockedUntil = performance.now() + backoffDelay(BACKOFF, this.#orderFailures);
    } else if (outcome.kind === 'halted' || (outcome.kind === 'skipped' && outcome.reason !== 'entries_paused')) {
      this.#state = await getBotState(this.ctx.db);
    } else if (outcome.kind === 'skipped') {
      this.#state = { ...this.#state, entriesPaused: true };
    }
    return outcome;
  }
}
