// Owns holding an order Kraken refused for a venue-wide reason — offline (EService:Unavailable),
// cancel_only, post_only, its rate limit — so the engine does not send it again on every candle:
// each send is an intent booked rejected, a call on Kraken's counters and an alert. Held per
// purpose, strategy and pair: after the first refusal the order waits 2 s, then 4 s … at most 60 s
// (the injected clock), and while Kraken's public SystemStatus says it is not online it waits
// whatever the pause; once the status is seen back online it goes at once. One alert per hold (the
// first refusal), not one per try; the tries are logged.
import type { AlertSink } from '../alerts/types.js';
import type { Clock } from '../clock.js';
import type { Config } from '../config/env.js';
import { krakenVenueName } from '../domain/venue-name.js';
import type { Exchange, SystemStatus } from '../exchange/types.js';
import type { Logger } from '../logger.js';
import { backoffDelay, type Backoff } from '../retry.js';
import { withDeadline } from '../services/kill/deadline.js';
import type { OrderOutcome, OrderRequestSpec } from './order-executor.js';

export const HOLD_BACKOFF: Backoff = { baseMs: 2_000, maxMs: 60_000 };
/** SystemStatus is a public call: asked at most this often while an order is held. */
export const STATUS_RECHECK_MS = 2_000;
/** How long a held order's candle waits for Kraken's SystemStatus before its pause alone decides. */
const STATUS_DEADLINE_MS = 2_000;

interface Hold {
  code: string;
  message: string;
  tries: number;
  until: number;
  /** Kraken's status was seen other than online during the hold: its return releases the order. */
  sawDown: boolean;
}

type HoldKey = Pick<OrderRequestSpec, 'purpose' | 'strategy' | 'symbol'>;

export interface VenueHoldDeps {
  /** KRAKEN_API_URL: whose refusal the hold's words name (venue-name.ts). */
  config: Pick<Config, 'KRAKEN_API_URL'>;
  clock: Clock;
  logger: Logger;
  alerts: Pick<AlertSink, 'raise'>;
}

const backoff = `after ${HOLD_BACKOFF.baseMs / 1000} s, doubling up to ${HOLD_BACKOFF.maxMs! / 1000} s`;

/**
 * A hold's alert title, worded by its reason. A rate limit passes as Kraken's counter falls, while
 * its status stays online: only the pause decides. Offline, cancel_only or post_only: the order goes
 * as soon as Kraken's status is seen back online, and the pause decides only while it does not read down.
 */
export function heldTitle(spec: HoldKey, code: string, message: string, venue: string): string {
  const head = `${spec.purpose === 'exit' ? 'Exit' : 'Entry'} ${spec.symbol} (${spec.strategy}) held`;
  if (code === 'rate_limited') return `${head}: ${venue} refused it for its rate limit (${message}); tried again ${backoff}, while its call counter falls`;
  return `${head}: ${venue} refused it (${message}); sent as soon as its status is back online, and while it does not read down, tried again ${backoff}`;
}

/** The log's word on the next try of a hold that waits `waitMs`. */
function nextTry(code: string, waitMs: number): string {
  if (code === 'rate_limited') return `next try in ${waitMs / 1000} s, while its call counter falls`;
  return `next try as soon as its status is back online, or in ${waitMs / 1000} s while it does not read down`;
}

export class VenueHolds {
  readonly #holds = new Map<string, Hold>();
  #status: { value: SystemStatus | null; at: number } | null = null;

  constructor(private readonly deps: VenueHoldDeps) {}

  static #key(spec: HoldKey): string {
    return `${spec.purpose}:${spec.strategy}:${spec.symbol}`;
  }

  /** Whether an order for this purpose, strategy and pair may be sent now. */
  async mayGo(spec: HoldKey, exchange: Exchange): Promise<boolean> {
    const hold = this.#holds.get(VenueHolds.#key(spec));
    if (!hold) return true;
    const now = this.deps.clock.now().getTime();
    const status = await this.#statusOf(exchange, now);
    if (status !== null && status !== 'online') {
      hold.sawDown = true;
      return false;
    }
    return (status === 'online' && hold.sawDown) || now >= hold.until;
  }

  /** What a sent order's outcome does to its hold: a venue-wide refusal starts or extends it; anything else ends it. */
  async settle(spec: OrderRequestSpec, outcome: OrderOutcome): Promise<void> {
    if (outcome.kind === 'skipped') return;
    const key = VenueHolds.#key(spec);
    const hold = this.#holds.get(key);
    const now = this.deps.clock.now().getTime();
    if (outcome.kind === 'rejected' && outcome.venueWide) {
      const tries = (hold?.tries ?? 0) + 1;
      const wait = backoffDelay(HOLD_BACKOFF, tries);
      this.#holds.set(key, { code: outcome.venueWide, message: outcome.message, tries, until: now + wait, sawDown: hold?.sawDown ?? false });
      const details = { purpose: spec.purpose, strategy: spec.strategy, symbol: spec.symbol, code: outcome.venueWide, tries, retryInSeconds: wait / 1000 };
      const venue = krakenVenueName(this.deps.config.KRAKEN_API_URL);
      this.deps.logger.warn(details, `${spec.purpose} held: ${venue} refused it (${outcome.venueWide}); ${nextTry(outcome.venueWide, wait)}`);
      if (hold) return;
      await this.deps.alerts.raise({
        source: 'trade_failure', severity: 'warning', fingerprint: `order_held:${key}`,
        title: heldTitle(spec, outcome.venueWide, outcome.message, venue),
        details: { ...details, message: outcome.message },
      });
      return;
    }
    if (!hold) return;
    this.#holds.delete(key);
    this.deps.logger.info({ purpose: spec.purpose, strategy: spec.strategy, symbol: spec.symbol, tries: hold.tries, outcome: outcome.kind },
      `held ${spec.purpose} sent again after ${hold.tries} refusal(s): ${outcome.kind}`);
  }

  async #statusOf(exchange: Exchange, now: number): Promise<SystemStatus | null> {
    if (!exchange.fetchSystemStatus) return null;
    if (this.#status && now - this.#status.at < STATUS_RECHECK_MS) return this.#status.value;
    let value: SystemStatus | null = null;
    try {
      // The candle loop waits on this, and Kraken is slowest when it is down: a short bound, not the request timeout.
      value = await withDeadline(exchange.fetchSystemStatus(), STATUS_DEADLINE_MS, "Kraken's SystemStatus");
    } catch (err) {
      this.deps.logger.warn({ err }, `could not read the system status of ${krakenVenueName(this.deps.config.KRAKEN_API_URL)} for a held order; its pause decides`);
    }
    // Stamped when the answer (or the give-up) came, so a slow answer is not asked for again on the next candle.
    this.#status = { value, at: this.deps.clock.now().getTime() };
    return value;
  }
}
