// Owns noticing a silent market feed: a feed that polls (Kraken's public API) and has not answered for
// more than SILENT_AFTER_POLLS poll intervals raises one warning alert, checked every couple of
// seconds on wall-clock time — not minutes later as a stale engine heartbeat. It re-arms once the
// feed answers again. A replay has no poll interval and is not watched.
import { performance } from 'node:perf_hooks';
import type { AlertSink } from '../alerts/types.js';
import type { Logger } from '../logger.js';
import { sleep } from '../market/sleep.js';

export const SILENT_AFTER_POLLS = 3;
const MAX_CHECK_MS = 2_000;

export class FeedWatch {
  #last = performance.now();
  #alerted = false;
  #ended = false;

  constructor(private readonly deps: { alerts: AlertSink; logger: Logger; pollMs: number; feed: string; now?: () => number }) {}

  #now(): number {
    return this.deps.now?.() ?? performance.now();
  }

  /** The feed handed over a batch (empty or not): it is alive. */
  answered(): void {
    this.#last = this.#now();
    if (this.#alerted) {
      this.#alerted = false;
      this.deps.logger.info({ feed: this.deps.feed }, 'the market feed answers again');
    }
  }

  /** The feed has nothing more to give (a replay played out): silence is expected from here on. */
  ended(): void {
    this.#ended = true;
  }

  async check(): Promise<void> {
    if (this.#ended || this.#alerted) return;
    const silentMs = this.#now() - this.#last;
    if (silentMs <= SILENT_AFTER_POLLS * this.deps.pollMs) return;
    this.#alerted = true;
    const seconds = Math.round(silentMs / 1000);
    this.deps.logger.warn({ feed: this.deps.feed, silentMs }, 'the market feed is silent');
    await this.deps.alerts.raise({
      source: 'exchange', severity: 'warning', fingerprint: 'market_feed_silent',
      title: `The ${this.deps.feed} market feed has not answered for ${seconds} s (more than ${SILENT_AFTER_POLLS} poll intervals of ${this.deps.pollMs / 1000} s): no new prices, no new signals`,
      details: { feed: this.deps.feed, silentMs: Math.round(silentMs), pollMs: this.deps.pollMs },
    });
  }

  /** Checks until `signal` aborts, often enough to alert within a few seconds of the threshold. */
  async run(signal: AbortSignal): Promise<void> {
    this.#last = this.#now();
    const every = Math.max(50, Math.min(MAX_CHECK_MS, this.deps.pollMs));
    while (!signal.aborted) {
      await sleep(every, signal);
      if (signal.aborted) break;
      await this.check().catch((err: unknown) => this.deps.logger.error({ err }, 'could not raise the silent-feed alert'));
    }
  }
}
