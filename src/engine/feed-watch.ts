// Owns noticing a silent market feed: a feed that polls (Kraken's public API) and has not answered for
// more than SILENT_AFTER_POLLS poll intervals, and at least MIN_SILENT_MS, raises one warning alert,
// checked every couple of seconds on wall-clock time — not minutes later as a stale engine heartbeat.
// With hysteresis, so a fast poll (1 s) whose answers come in fits does not raise and resolve the
// alert over and over: the alert is resolved only once the feed has answered steadily (no silence
// past the threshold) for BACK_FOR_POLLS poll intervals and at least MIN_BACK_MS, and only then can
// the next silence raise it again. A replay has no poll interval and is not watched.
import { performance } from 'node:perf_hooks';
import type { AlertSink } from '../alerts/types.js';
import type { Logger } from '../logger.js';
import { sleep } from '../market/sleep.js';

export const SILENT_AFTER_POLLS = 3;
export const MIN_SILENT_MS = 10_000;
export const BACK_FOR_POLLS = 10;
export const MIN_BACK_MS = 60_000;
export const FEED_SILENT_FINGERPRINT = 'market_feed_silent';
const MAX_CHECK_MS = 2_000;

/** How long a silence raises the alert, and how long the feed must be back to resolve it (ms). */
export interface FeedWatchThresholds {
  minSilentMs: number;
  minBackMs: number;
}

/** What /healthz says of the feed this process's engine polls. */
export interface FeedStatus {
  feed: string;
  /** answering; no answer yet (since start, within the threshold); silent (past it, or alerted and not back). */
  state: 'answering' | 'no answer yet' | 'silent';
  /** When it last handed over a batch (wall time), or null when it never has since this engine started. */
  lastAnswerAt: string | null;
  /** How long since it last answered (or since the engine started), in ms. */
  silentForMs: number;
  /** The silence after which the feed counts as silent (and the alert is raised), in ms. */
  thresholdMs: number;
}

const watches = new WeakMap<object, FeedWatch>();

/** The feed watch of the engine running on `key` (its context's database handle); null to remove it. */
export function publishFeedWatch(key: object, watch: FeedWatch | null, only?: FeedWatch): void {
  if (watch) watches.set(key, watch);
  else if (!only || watches.get(key) === only) watches.delete(key);
}

/** The feed's state as this process's engine sees it; undefined when no engine here watches a feed. */
export function feedStatusOf(key: object): FeedStatus | undefined {
  return watches.get(key)?.status();
}

export class FeedWatch {
  #last = performance.now();
  #lastAnswerAt: Date | null = null;
  #alerted = false;
  /** While alerted: since when the feed has answered without a silence past the threshold. */
  #backSince: number | null = null;
  #ended = false;
  readonly #silentMs: number;
  readonly #backMs: number;

  constructor(private readonly deps: {
    alerts: AlertSink; logger: Logger; pollMs: number; feed: string; now?: () => number; thresholds?: Partial<FeedWatchThresholds>;
  }) {
    this.#silentMs = Math.max(SILENT_AFTER_POLLS * deps.pollMs, deps.thresholds?.minSilentMs ?? MIN_SILENT_MS);
    this.#backMs = Math.max(BACK_FOR_POLLS * deps.pollMs, deps.thresholds?.minBackMs ?? MIN_BACK_MS);
  }

  #now(): number {
    return this.deps.now?.() ?? performance.now();
  }

  /** The feed handed over a batch (empty or not): it is alive. */
  answered(): void {
    const now = this.#now();
    if (this.#alerted && (this.#backSince === null || now - this.#last > this.#silentMs)) {
      if (this.#backSince === null) this.deps.logger.info({ feed: this.deps.feed }, 'the market feed answers again; the alert stays until it has answered steadily');
      this.#backSince = now;
    }
    this.#last = now;
    this.#lastAnswerAt = new Date();
  }

  status(): FeedStatus {
    const silentForMs = Math.max(0, Math.round(this.#now() - this.#last));
    return {
      feed: this.deps.feed,
      // Alerted and not yet back long enough to resolve it: silent, as other replicas read the open alert.
      state: silentForMs > this.#silentMs || this.#alerted ? 'silent' : this.#lastAnswerAt === null ? 'no answer yet' : 'answering',
      lastAnswerAt: this.#lastAnswerAt?.toISOString() ?? null,
      silentForMs,
      thresholdMs: this.#silentMs,
    };
  }

  /** The feed has nothing more to give (a replay played out): silence is expected from here on. */
  ended(): void {
    this.#ended = true;
  }

  async check(): Promise<void> {
    if (this.#ended) return;
    const now = this.#now();
    const silentMs = now - this.#last;
    if (this.#alerted) {
      // Silent again before it was back for long enough: the alert stands, the wait starts over.
      if (silentMs > this.#silentMs) this.#backSince = null;
      else if (this.#backSince !== null && now - this.#backSince >= this.#backMs) await this.#resolve(now - this.#backSince);
      return;
    }
    if (silentMs <= this.#silentMs) return;
    this.#alerted = true;
    this.#backSince = null;
    const seconds = Math.round(silentMs / 1000);
    this.deps.logger.warn({ feed: this.deps.feed, silentMs }, 'the market feed is silent');
    await this.deps.alerts.raise({
      source: 'exchange', severity: 'warning', fingerprint: FEED_SILENT_FINGERPRINT,
      title: `The ${this.deps.feed} market feed has not answered for ${seconds} s (more than ${Math.round(this.#silentMs / 1000)} s, ${SILENT_AFTER_POLLS} or more poll intervals of ${this.deps.pollMs / 1000} s): no new prices, no new signals`,
      details: { feed: this.deps.feed, silentMs: Math.round(silentMs), pollMs: this.deps.pollMs, thresholdMs: this.#silentMs },
    });
  }

  async #resolve(backMs: number): Promise<void> {
    this.#alerted = false;
    this.#backSince = null;
    const note = `The ${this.deps.feed} market feed has answered steadily for ${Math.round(backMs / 1000)} s`;
    this.deps.logger.info({ feed: this.deps.feed, backMs }, 'the market feed answers steadily again');
    await this.deps.alerts.resolve?.({ fingerprint: FEED_SILENT_FINGERPRINT, by: 'system:feed-watch', note });
  }

  /** Checks until `signal` aborts, often enough to alert within a few seconds of the threshold. */
  async run(signal: AbortSignal): Promise<void> {
    this.#last = this.#now();
    const every = Math.max(50, Math.min(MAX_CHECK_MS, this.deps.pollMs));
    while (!signal.aborted) {
      await sleep(every, signal);
      if (signal.aborted) break;
      await this.check().catch((err: unknown) => this.deps.logger.error({ err }, 'could not raise or resolve the silent-feed alert'));
    }
  }
}
