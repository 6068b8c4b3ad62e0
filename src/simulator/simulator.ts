// Owns the Kraken simulator as one object: the account state, the price path and its pace, the
// counters, the faults, the dead man's timer and the HTTP server on 127.0.0.1 that speaks Kraken's
// REST API (server.ts) and the control API (/_sim/*, control-api.ts). `ctb simulate-kraken` runs
// one in its own process, so its state survives the bot's restarts; tests start one in-process.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { systemClock, type Clock } from '../clock.js';
import type { Candle } from '../exchange/types.js';
import { NonceBook, type KeyPair } from './auth.js';
import { setBalance } from './account.js';
import { pairOf } from './catalogue.js';
import { cancelAll, fireDeadManIfDue } from './cancel.js';
import type { FillSettings, SimContext } from './context.js';
import { FaultBook } from './faults.js';
import { d, Decimal } from './format.js';
import { cryptoRandom, seededRandom } from './ids.js';
import { onMove } from './matcher.js';
import { PricePath, type PathMove } from './price-path.js';
import { RateCounters, type Tier } from './rate-limits.js';
import { createSimulatorServer } from './server.js';
import { StateFile } from './state-file.js';
import { SimExecutionsServer, WS_PATH } from './ws-executions.js';
import type { RecordedCall, SimOrder, SimState, SimTrade, SystemStatus } from './types.js';
import { PAGE_SIZE, TRADE_KEY_PERMISSIONS } from './private-api.js';

export interface SimulatorOptions {
  /** The account's key and secret; when unset, any key is accepted unsigned (a test fake's loose mode). */
  apiKey?: string;
  secret?: string;
  permissions?: string[] | 'unsupported';
  /** Kraken asset id (ZUSD, XXBT) → balance. Default: 10,000 USD, no BTC. */
  balances?: Record<string, string>;
  trades?: SimTrade[];
  orders?: SimOrder[];
  /** Pairs pinned to a fixed price (pair id → price); the others follow `replay`. */
  fixedPrices?: Record<string, string>;
  /** Replay candles (e.g. readReplayFile(SAMPLE_REPLAY_FILE)); none: every pair at a fixed price. */
  replay?: Candle[];
  /** Candles closed per second of wall-clock time; 0 = only when told (control API, advance()). */
  pace?: number;
  loop?: boolean;
  historyCandles?: number;
  makerFeePct?: string;
  takerFeePct?: string;
  slippageBps?: number;
  fillSlices?: number;
  rateLimits?: boolean;
  tier?: Tier;
  systemStatus?: SystemStatus;
  clock?: Clock;
  /** Seeds ids and probability faults, so a run repeats. */
  seed?: number;
  stateFile?: string;
  /** A generated key pair to keep in the state file (so the bot's environment survives a restart). */
  keepKeysInStateFile?: boolean;
  /** TradesHistory / ClosedOrders page size (default Kraken's 50). */
  pageSize?: number;
  /** Most recent calls kept in `calls` (default: all). */
  callLogLimit?: number;
  port?: number;
  onRequestStart?: (path: string, at: number) => void;
  /** Things a person running the simulator wants to see (dead man fired, status changed). */
  onEvent?: (message: string) => void;
}

export const DEFAULT_BALANCES = { ZUSD: '10000.0000', XXBT: '0.0000000000' };
export const DEFAULT_FEES = { maker: '0.25', taker: '0.40' };

export class KrakenSimulator {
  readonly state: SimState;
  readonly calls: RecordedCall[] = [];
  readonly faults: FaultBook;
  readonly nonces = new NonceBook();
  readonly keys: KeyPair;
  readonly ctx: SimContext;
  /** Persistent per-endpoint answer delay (ms); '*' for all. */
  readonly latency = new Map<string, number>();
  /** Per endpoint, answers wait until this settles (a Kraken that has not answered yet, for as long as a test needs). */
  readonly holds = new Map<string, Promise<void>>();
  readonly startedAt: number;

  /** `endpoint`'s requests are received and answered none until the returned release() (a Kraken paused mid-call). */
  hold(endpoint: string): () => void {
    let release!: () => void;
    this.holds.set(endpoint, new Promise<void>((resolve) => (release = resolve)));
    return () => {
      this.holds.delete(endpoint);
      release();
    };
  }
  readonly #opts: SimulatorOptions;
  readonly #initialBalances: Record<string, string>;
  #server: Server | undefined;
  #executions: SimExecutionsServer | undefined;
  #paceTimer: NodeJS.Timeout | undefined;
  #deadManTimer: NodeJS.Timeout | undefined;
  #armedFor: number | null = null;
  #pace: number;
  #paced = { since: 0, count: 0 };
  #stateFile: StateFile | undefined;

  constructor(opts: SimulatorOptions = {}) {
    this.#opts = opts;
    const clock = opts.clock ?? systemClock;
    const random = opts.seed !== undefined ? seededRandom(opts.seed) : cryptoRandom;
    this.#initialBalances = { ...DEFAULT_BALANCES, ...opts.balances };
    this.keys = { ...(opts.apiKey !== undefined ? { apiKey: opts.apiKey } : {}), ...(opts.secret !== undefined ? { secret: opts.secret } : {}) };
    this.state = {
      permissions: opts.permissions ?? [...TRADE_KEY_PERMISSIONS],
      balances: { ...this.#initialBalances },
      trades: [...(opts.trades ?? [])],
      orders: new Map((opts.orders ?? []).map((o) => [o.txid, o])),
      tickers: {},
      systemStatus: opts.systemStatus ?? 'online',
      deadMan: { timeoutSeconds: 0, triggerAt: null },
    };
    this.startedAt = clock.now().getTime();
    const path = new PricePath({
      replay: opts.replay ?? [], ...(opts.fixedPrices ? { fixedPrices: opts.fixedPrices } : {}), loop: opts.loop ?? true,
      historyCandles: opts.historyCandles ?? 720, startMs: this.startedAt,
    }, this.state.tickers);
    const fills: FillSettings = {
      makerFeePct: d(opts.makerFeePct ?? DEFAULT_FEES.maker), takerFeePct: d(opts.takerFeePct ?? DEFAULT_FEES.taker),
      slippage: d(opts.slippageBps ?? 0).div(10_000), fillSlices: Math.max(1, Math.floor(opts.fillSlices ?? 1)),
    };
    this.ctx = {
      state: this.state, path, rates: new RateCounters(opts.rateLimits ?? false, opts.tier ?? 'intermediate'), fills,
      now: () => clock.now().getTime(), random, pageSize: opts.pageSize ?? PAGE_SIZE, seq: { tradeId: 0 }, changed: () => this.#changed(),
      wsTokens: new Map(), execution: (e) => this.#executions?.publish(e),
    };
    this.faults = new FaultBook(random);
    this.#pace = opts.pace ?? 0;
    if (opts.stateFile) {
      const keep = opts.keepKeysInStateFile && opts.apiKey && opts.secret ? { apiKey: opts.apiKey, secret: opts.secret } : undefined;
      this.#stateFile = new StateFile(opts.stateFile, keep);
      this.#stateFile.restore(this);
    }
  }

  /** Starts the HTTP server on 127.0.0.1 (port 0: any free port) and the pace. */
  static async start(opts: SimulatorOptions = {}): Promise<KrakenSimulator> {
    const sim = new KrakenSimulator(opts);
    await sim.listen(opts.port ?? 0);
    return sim;
  }

  get options(): Readonly<SimulatorOptions> {
    return this.#opts;
  }

  get url(): string {
    const address = this.#server?.address() as AddressInfo | null | undefined;
    if (!address) throw new Error('The simulator is not listening.');
    return `http://127.0.0.1:${address.port}`;
  }

  /** The WebSocket v2 endpoint (executions channel), beside the REST API on the same port. */
  get wsUrl(): string {
    return `${this.url.replace(/^http/, 'ws')}${WS_PATH}`;
  }

  /** The executions channel's server, once listening (its faults: drop(), rejectTokens). */
  get executions(): SimExecutionsServer {
    if (!this.#executions) throw new Error('The simulator is not listening.');
    return this.#executions;
  }

  get pace(): number {
    return this.#pace;
  }

  async listen(port: number): Promise<void> {
    const server = createSimulatorServer(this);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.#server = server;
    this.#executions = new SimExecutionsServer(this.ctx, server);
    this.setPace(this.#pace);
    this.#armDeadManTimer();
  }

  event(message: string): void {
    this.#opts.onEvent?.(message);
  }

  record(call: RecordedCall): void {
    this.calls.push(call);
    const limit = this.#opts.callLogLimit ?? Infinity;
    if (this.calls.length > limit) this.calls.splice(0, this.calls.length - limit);
  }

  /** Closes `n` candles and lets orders trade against the move. */
  advance(n = 1): void {
    // One candle at a time: each is a tick for partial fills and a range for resting limits.
    for (let i = 0; i < n && !this.ctx.path.ended; i++) {
      const moves = this.ctx.path.advance(1);
      if (moves.length > 0) onMove(this.ctx, moves);
    }
    this.sweep();
    this.#changed();
  }

  /** Moves one pair to a fixed price now (orders the move crosses fill). */
  setPrice(pair: string, price: string | Decimal): PathMove {
    const info = pairOf(pair);
    if (!info) throw new Error(`Unknown pair ${pair}.`);
    const move = this.ctx.path.setPrice(info.id, d(price));
    onMove(this.ctx, [move], false);
    this.#changed();
    return move;
  }

  /** Candles per second (0 stops the clock of the market; advance() still works). */
  setPace(pace: number): void {
    this.#pace = pace;
    if (this.#paceTimer) clearInterval(this.#paceTimer);
    this.#paceTimer = undefined;
    if (pace <= 0 || !this.#server) return;
    this.#paced = { since: performance.now(), count: 0 };
    const period = Math.max(20, Math.min(1000, 1000 / pace));
    this.#paceTimer = setInterval(() => {
      const due = Math.floor(((performance.now() - this.#paced.since) / 1000) * pace) - this.#paced.count;
      if (due <= 0) return;
      this.#paced.count += due;
      this.advance(due);
    }, period);
  }

  setSystemStatus(status: SystemStatus): void {
    if (this.state.systemStatus !== status) this.event(`system status: ${this.state.systemStatus} → ${status}`);
    this.state.systemStatus = status;
    this.#changed();
  }

  /** Runs what is due by the clock: the dead man's switch. Every request and step calls it. */
  sweep(): void {
    const fired = fireDeadManIfDue(this.ctx);
    if (fired !== undefined) this.event(`dead man's switch fired: ${fired} open order(s) cancelled`);
    this.#armDeadManTimer();
  }

  /** Back to the starting account: balances, no orders or trades, no faults, counters and switch cleared. */
  reset(balances?: Record<string, string>): void {
    this.state.balances = { ...(balances ?? this.#initialBalances) };
    this.state.orders.clear();
    this.state.trades.length = 0;
    this.state.deadMan = { timeoutSeconds: 0, triggerAt: null };
    this.state.systemStatus = this.#opts.systemStatus ?? 'online';
    this.faults.clear();
    this.latency.clear();
    this.holds.clear();
    this.ctx.rates.reset();
    this.#changed();
  }

  setBalances(balances: Record<string, string>): void {
    for (const [asset, amount] of Object.entries(balances)) setBalance(this.ctx, asset, d(amount));
    this.#changed();
  }

  cancelAllNow(reason: string): number {
    return cancelAll(this.ctx, reason, false);
  }

  #armDeadManTimer(): void {
    if (this.#deadManTimer) clearTimeout(this.#deadManTimer);
    this.#deadManTimer = undefined;
    const { triggerAt } = this.state.deadMan;
    this.#armedFor = triggerAt;
    if (triggerAt === null || !this.#server) return;
    const wait = Math.max(0, Math.min(triggerAt - this.ctx.now(), 2 ** 31 - 1));
    this.#deadManTimer = setTimeout(() => this.sweep(), wait + 5);
  }

  #changed(): void {
    this.#stateFile?.scheduleSave(this);
    if (this.state.deadMan.triggerAt !== this.#armedFor) this.#armDeadManTimer();
  }

  async close(): Promise<void> {
    if (this.#paceTimer) clearInterval(this.#paceTimer);
    if (this.#deadManTimer) clearTimeout(this.#deadManTimer);
    this.#paceTimer = undefined;
    this.#deadManTimer = undefined;
    await this.#stateFile?.saveNow(this);
    const server = this.#server;
    this.#server = undefined;
    await this.#executions?.close();
    this.#executions = undefined;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  }
}
