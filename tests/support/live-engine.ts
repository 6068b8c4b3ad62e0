// Fixtures for engine tests on the live path: the product's Kraken simulator (src/simulator) as the
// exchange — signatures, nonces, balances enforced, market orders filled with fees, optionally in
// slices over ticks — an armed context (IS_LIVE=true, Kraken keys, bot_state live) pointed at it,
// and an engine on a market feed whose closes are the simulator's prices as each candle arrives.
import { sql } from 'drizzle-orm';
import { ManualClock } from '../../src/clock.js';
import type { Database } from '../../src/db/client.js';
import { Engine, type EngineOptions } from '../../src/engine/engine.js';
import { ALONE_BY_CONSTRUCTION } from '../../src/engine/ledger/intent-lease.js';
import type { StrategyDefinition } from '../../src/engine/strategies/config.js';
import type { Candle } from '../../src/exchange/types.js';
import { PacedFeed } from '../../src/market/paced-feed.js';
import type { FeedKind, MarketFeed, MarketTick } from '../../src/market/types.js';
import { updateBotState } from '../../src/services/bot-state.js';
import { pairOfSymbol } from '../../src/simulator/catalogue.js';
import { KrakenSimulator, type SimulatorOptions } from '../../src/simulator/simulator.js';
import { afterAll, beforeAll } from 'vitest';
import { createPostgresTestDb, type TestDatabase } from './db.js';
import { engineContext, type EngineTestContext } from './engine.js';
import { TEST_API_KEY, TEST_API_SECRET } from './kraken-test-keys.js';
import { privateCall } from './simulator.js';

export interface LiveKraken {
  sim: KrakenSimulator;
  /** Kraken has filled but does not list trade ids on orders (it lists them late) until shown. */
  hideTrades(): void;
  showTrades(): void;
  /** Every AddOrder the bot sent (form parameters, nonce left out). */
  addOrders(): Array<Record<string, string>>;
}

export async function startLiveKraken(opts: SimulatorOptions = {}): Promise<LiveKraken> {
  if (opts.clock instanceof ManualClock) realTimeCounted.set(opts.clock, performance.now());
  let hidden = false;
  const stash = new Map<string, string[]>();
  let sim: KrakenSimulator | undefined;
  // Before an order read is answered: strip (or put back) the trade ids Kraken lists on orders.
  const onRequestStart = (path: string) => {
    if (!sim || !/QueryOrders|OpenOrders|ClosedOrders/.test(path)) return;
    for (const o of sim.state.orders.values()) {
      if (hidden && o.trades?.length) {
        stash.set(o.txid, o.trades);
        delete o.trades;
      } else if (!hidden && stash.has(o.txid)) {
        o.trades = stash.get(o.txid)!;
        stash.delete(o.txid);
      }
    }
  };
  sim = await KrakenSimulator.start({
    apiKey: TEST_API_KEY, secret: TEST_API_SECRET, fixedPrices: { XXBTZUSD: '60000.0', XETHZUSD: '3000.00' },
    pace: 0, rateLimits: false, historyCandles: 3, onRequestStart, ...opts,
  });
  return {
    sim,
    hideTrades: () => void (hidden = true),
    showTrades: () => void (hidden = false),
    addOrders: () => sim!.calls.filter((c) => c.endpoint === 'AddOrder').map((c) => c.params),
  };
}

/**
 * A PostgreSQL test database and a live Kraken simulator for the calling file's tests: made before
 * them, closed after (the hooks are registered by the file that calls this, not at import).
 */
export function useLiveKraken(): { readonly database: TestDatabase; readonly kraken: LiveKraken } {
  let database: TestDatabase | undefined;
  let kraken: LiveKraken | undefined;
  beforeAll(async () => {
    database = await createPostgresTestDb();
    kraken = await startLiveKraken();
  }, 120_000);
  afterAll(async () => {
    await kraken?.sim.close();
    await database?.close();
  });
  return { get database() { return database!; }, get kraken() { return kraken!; } };
}

export async function liveContext(
  database: Database, kraken: LiveKraken, env: Record<string, string> = {}, extra: Parameters<typeof engineContext>[2] = {},
): Promise<EngineTestContext> {
  const t = await engineContext(database, {
    IS_LIVE: 'true', KRAKEN_API_KEY: TEST_API_KEY, KRAKEN_API_SECRET: TEST_API_SECRET, KRAKEN_API_URL: kraken.sim.url, KRAKEN_RATE_LIMIT: 'false', ...env,
  }, extra);
  await updateBotState(database.db, t.clock, { mode: 'live' });
  return t;
}

/** A paced feed of `candles` that moves the simulator's price to each close as the candle is handed out. */
export class SimulatorMarketFeed implements MarketFeed {
  readonly #inner: PacedFeed;

  constructor(readonly kind: FeedKind, candles: Candle[], paceMs: number, private readonly sim: KrakenSimulator) {
    this.#inner = new PacedFeed(kind, candles, paceMs);
  }

  async next(signal: AbortSignal): Promise<MarketTick[] | null> {
    const batch = await this.#inner.next(signal);
    for (const tick of batch ?? []) {
      const pair = pairOfSymbol(tick.candle.symbol);
      if (pair) this.sim.setPrice(pair.id, tick.candle.close.toFixed(pair.pairDecimals));
    }
    return batch;
  }
}

export function liveEngine(
  t: EngineTestContext, kraken: LiveKraken, candles: Candle[], strategies: StrategyDefinition[],
  opts: Omit<Partial<EngineOptions>, 'feed'> & { feed?: FeedKind; paceMs?: number } = {},
): Engine {
  const { feed, paceMs, ...rest } = opts;
  return new Engine({
    ctx: t.ctx, feed: new SimulatorMarketFeed(feed ?? 'kraken', candles, paceMs ?? 30, kraken.sim), strategies, marketClock: t.clock,
    stopWhenFeedEnds: true, housekeepingMs: 0, fillFollowMs: 50, ...rest,
    // One engine on its test database unless the test hands it a lease to hold.
    lease: rest.lease ?? ALONE_BY_CONSTRUCTION,
  });
}

/**
 * The kill tests' Kraken: a database, the simulator at the Starter rate tier with its counters on,
 * one manual clock for both, and one resting limit buy at Kraken for a kill to cancel. Each closer is
 * pushed onto `cleanup`.
 */
export async function rateLimitedKrakenWithRestingOrder(cleanup: Array<() => Promise<unknown>>) {
  const clock = new ManualClock('2026-01-05T12:00:00Z');
  const database = await createPostgresTestDb();
  cleanup.push(() => database.close());
  const kraken = await startLiveKraken({ rateLimits: true, tier: 'starter', clock });
  cleanup.push(() => kraken.sim.close());
  const resting = await privateCall(kraken.sim, 'AddOrder', { pair: 'XBTUSD', type: 'buy', ordertype: 'limit', price: '30000', volume: '0.01' });
  if (resting.body.error.length > 0) throw new Error(`the resting order was refused: ${resting.body.error.join(', ')}`);
  return { clock, database, kraken };
}

/**
 * Time passes for the shared record of Kraken's rate-limit refusals too: its ages are the database's
 * (db/queries/kraken-rate-counter.ts), which a test's manual clock does not move, so a test that
 * advances the clock Kraken counts on by `ms` ages the recorded refusals by as much.
 */
export async function ageRecordedRefusals(database: Database, ms: number): Promise<void> {
  await database.db.execute(sql`update kraken_rate_counter set refused_at = refused_at - ${Math.round(ms)} * interval '1 millisecond'`);
}

/**
 * Time passes for the follow-up cancels' writing, give-up, join and next-try times too: they are the
 * database's (engine-requests/store.ts), which a test's manual clock does not move, so a test that
 * advances the clock the bot counts on by `ms` moves them `ms` into the past as well.
 */
export async function ageFollowUps(database: Database, ms: number): Promise<void> {
  for (const key of ['giveUpAt', 'joinedAt', 'writtenAt', 'dueAt']) {
    await database.db.execute(sql`update engine_requests set params = jsonb_set(params, ${`{${key}}`}::text[], to_jsonb(to_char(
      ((params ->> ${key})::timestamptz - ${Math.round(ms)} * interval '1 millisecond') at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')))
      where params ->> 'followUp' = 'true' and params ->> ${key} is not null`);
  }
  // Its next try too (not_before, written on the database's clock as params.dueAt is).
  await database.db.execute(sql`update engine_requests set not_before = not_before - ${Math.round(ms)} * interval '1 millisecond'
    where params ->> 'followUp' = 'true' and not_before is not null`);
}

/** A follow-up's give-up time and last join as ages on the database's clock (ms; null when it has none). */
export async function followUpAges(database: Database, id: number): Promise<{ giveUpInMs: number | null; joinedAgoMs: number | null }> {
  const result = await database.db.execute(sql`select
    (extract(epoch from ((params ->> 'giveUpAt')::timestamptz - now())) * 1000)::float8 as "giveUpInMs",
    (extract(epoch from (now() - (params ->> 'joinedAt')::timestamptz)) * 1000)::float8 as "joinedAgoMs"
    from engine_requests where id = ${id}`);
  const [row] = (Array.isArray(result) ? result : (result as { rows: unknown[] }).rows) as Array<{ giveUpInMs: number | null; joinedAgoMs: number | null }>;
  const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  return { giveUpInMs: num(row?.giveUpInMs), joinedAgoMs: num(row?.joinedAgoMs) };
}

/**
 * Up to when (performance.now()) the real time that passed is counted on a manual clock the
 * simulator runs on: from the simulator's start, then from each passUntilDue. The database's now()
 * runs on in real time (a test taking seconds under load), while the manual clock moves only when
 * told: without this, the bot would judge Kraken's counter by refusal ages and next tries the
 * database has seen age in real time, and the simulator's counter, on the manual clock, would not
 * have fallen as far.
 */
const realTimeCounted = new WeakMap<ManualClock, number>();

/**
 * Time passes until request `id`'s next try is due on the database's clock (not_before, which the
 * runner judges due by). First `clock` (the bot's, and the simulator's when it runs on it) counts the
 * real time that passed since it last did (see realTimeCounted), which the database has already
 * counted; then the follow-ups' times age by what is left of the wait and a second more, and `clock`
 * moves as far. Returns how far the wait moved them (0: already due; the real time is counted all the same).
 */
export async function passUntilDue(database: Database, id: number, clock: ManualClock): Promise<number> {
  const result = await database.db.execute(sql`select (extract(epoch from (not_before - now())) * 1000)::float8 as "inMs" from engine_requests where id = ${id}`);
  const counted = realTimeCounted.get(clock);
  if (counted !== undefined) {
    const at = performance.now();
    clock.advance(Math.ceil(at - counted));
    realTimeCounted.set(clock, at);
  }
  const [row] = (Array.isArray(result) ? result : (result as { rows: unknown[] }).rows) as Array<{ inMs: number | null }>;
  const inMs = row?.inMs === null || row?.inMs === undefined ? 0 : Number(row.inMs);
  if (inMs <= 0) return 0;
  const ms = Math.ceil(inMs) + 1_000;
  await ageFollowUps(database, ms);
  clock.advance(ms);
  return ms;
}

/**
 * Time passes for the order intents too: recovery judges an intent's grace by when it was written or
 * last changed on the database's clock (state_changed_at), and how long it has been unresolved by when
 * it was written there (written_at), which a test's manual clock does not move, so a test that moves
 * the bot's clock `ms` past an intent moves both as far back.
 */
export async function ageIntentStates(database: Database, ms: number): Promise<void> {
  // The update would restart the time (the trigger that sets it on every change): off for this one.
  await database.db.transaction(async (tx) => {
    await tx.execute(sql`set local session_replication_role = replica`);
    await tx.execute(sql`update order_intents set state_changed_at = state_changed_at - ${Math.round(ms)} * interval '1 millisecond',
      written_at = written_at - ${Math.round(ms)} * interval '1 millisecond'`);
  });
}
