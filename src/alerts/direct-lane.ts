// Owns the direct lane: while the database refuses the outbox, a critical alert (the level whose
// policy pages: policy.ts) goes straight to the alerts channel through the chat notifier, at once,
// marked as sent without the database — no group, no buttons, no escalation until it is stored.
// Bounded: one message a second (Slack's per-channel pace), one per fingerprint per outage, and at
// most DIRECT_CAP per DIRECT_WINDOW_MS; what the cap holds back is counted, said in the next direct
// message, and sent as the window frees (oldest first). Sends that failed and wait to be tried again
// do not count against the cap: a Slack outage must not fill it with retries. A send that fails stays queued and is tried again (each tick, backing off); its
// alert says so when it is stored. A send Slack did not answer in time may have been posted: the next
// try looks for its message (by metadata) in the channel before posting again. Each process knows only its own sends: two processes without
// the database send one message per fingerprint each, each naming its process.
import type { Clock } from '../clock.js';
import type { Db } from '../db/client.js';
import type { Logger } from '../logger.js';
import type { Notifier } from '../notifications/notification.js';
import { backoffDelay, type Backoff } from '../retry.js';
import type { DirectState, RaiseState } from '../domain/alert-outage.js';
import type { StoredAlert } from './store.js';

export const DIRECT_CAP = 10;
export const DIRECT_WINDOW_MS = 10 * 60_000;
export const DIRECT_SPACING_MS = 1_000;
const CAP_TEXT = `${DIRECT_CAP} every ${DIRECT_WINDOW_MS / 60_000} minutes from one process`;
const RETRY_BACKOFF: Backoff = { baseMs: 2_000, maxMs: 60_000 };

/** An alert the database refused, kept in memory until it is stored. */
export interface BufferedAlert {
  alert: StoredAlert;
  at: Date;
  /** Its own key, stored with it (alert_events.raise_key): a late store is never made twice. */
  key: string;
  /** The bot's state as this process knew it when the alert was raised. */
  state: RaiseState | null;
  direct?: DirectState;
  /** Its direct send's id (the message's metadata), kept across tries. */
  directId?: string;
}

export interface DirectLaneDeps {
  /** Handed to the notifier, which does not read it for a direct message (the database is away). */
  db: Db;
  clock: Clock;
  logger: Logger;
  notifier: Notifier;
  channel: string;
  /** This process as the message names it (host:pid:role). */
  process: string;
  /** Scrubs the kept error of a failed send, which is shown and stored later (src/secret-scrub.ts). */
  scrub: (text: string) => string;
}

export class DirectLane {
  readonly #queue: BufferedAlert[] = [];
  /** Held back by the cap, oldest first: offered again as the window frees. */
  readonly #held: BufferedAlert[] = [];
  /** When each direct message of the window went out (epoch ms, this process's clock). */
  #sent: number[] = [];
  /** Fingerprints sent or queued in this outage. */
  readonly #fingerprints = new Set<string>();
  /** Held back by the cap since the last direct message said so. */
  #dropped = 0;
  #lastTry = Number.NEGATIVE_INFINITY;
  #pumping: Promise<void> | null = null;
  #sending: BufferedAlert | null = null;
  /** Alerts being stored: not sent from here meanwhile. */
  readonly #holding = new Set<BufferedAlert>();
  /** Numbers this process's direct sends (with the process, the id a message carries in its metadata). */
  #seq = 0;

  constructor(private readonly deps: DirectLaneDeps) {}

  /** Alerts waiting for (or retrying) their direct send. */
  get queued(): number {
    return this.#queue.length;
  }

  /** Decides what becomes of a refused alert: queued for a direct send, or why not (on `entry.direct`). */
  offer(entry: BufferedAlert): void {
    if (entry.alert.severity !== 'critical' || entry.alert.test) return;
    if (this.#fingerprints.has(entry.alert.fingerprint)) {
      entry.direct = { status: 'repeat' };
      return;
    }
    if (this.#held.some((e) => e.alert.fingerprint === entry.alert.fingerprint)) {
      entry.direct = { status: 'dropped', cap: CAP_TEXT };
      return;
    }
    if (!this.#room()) {
      this.#dropped += 1;
      entry.direct = { status: 'dropped', cap: CAP_TEXT };
      this.#held.push(entry);
      return;
    }
    this.#enqueue(entry);
  }

  #enqueue(entry: BufferedAlert): void {
    this.#fingerprints.add(entry.alert.fingerprint);
    entry.direct = { status: 'queued' };
    this.#queue.push(entry);
  }

  /** Whether the window has room for one more: sends in it, and those waiting for a first try. */
  #room(): boolean {
    const now = this.deps.clock.now().getTime();
    this.#sent = this.#sent.filter((t) => now - t < DIRECT_WINDOW_MS);
    return this.#sent.length + this.#queue.filter((e) => e.direct?.status === 'queued').length < DIRECT_CAP;
  }

  /**
   * The alert was stored after all (a stalled write that went through): not sent from here any more;
   * a send of it under way is waited for, so its outcome is known.
   */
  async settle(entry: BufferedAlert): Promise<void> {
    if (this.#sending === entry) await this.#pumping;
    this.forget(entry);
  }

  /** The alert was stored (or let go): it is no longer this lane's to send. */
  forget(entry: BufferedAlert): void {
    const i = this.#queue.indexOf(entry);
    if (i >= 0) this.#queue.splice(i, 1);
    const h = this.#held.indexOf(entry);
    if (h >= 0) this.#held.splice(h, 1);
    this.#holding.delete(entry);
  }

  /** The database took everything: the next outage starts afresh (its fingerprints, its dropped count). */
  endOutage(): void {
    this.#fingerprints.clear();
    this.#queue.length = 0;
    this.#held.length = 0;
    this.#dropped = 0;
  }

  /**
   * Holds one alert's send while it is written to the database: waits for its send under way, so an
   * alert is never stored while its direct send is in flight (and so never said unsent when it went).
   * The others are still sent meanwhile.
   */
  async hold(entry: BufferedAlert): Promise<void> {
    this.#holding.add(entry);
    if (this.#sending === entry) await this.#pumping;
  }

  /** Its store failed: it may be sent again. */
  release(entry: BufferedAlert): void {
    this.#holding.delete(entry);
  }

  /** Sends what is due, one message per DIRECT_SPACING_MS; later ones wait for the next call (the delivery tick). */
  pump(): Promise<void> {
    if (this.#pumping) return this.#pumping;
    const run = this.#run().finally(() => {
      this.#pumping = null;
    });
    this.#pumping = run;
    return run;
  }

  async #run(): Promise<void> {
    for (;;) {
      const now = this.deps.clock.now();
      if (now.getTime() - this.#lastTry < DIRECT_SPACING_MS) return;
      // What the cap held back goes as the window frees, oldest first.
      while (this.#held.length > 0 && this.#room()) this.#enqueue(this.#held.shift()!);
      if (this.#sent.length >= DIRECT_CAP) return;
      // A first try goes before tries again: an alert raised during a Slack outage is not queued behind its retries.
      const free = this.#queue.filter((e) => !this.#holding.has(e));
      const next = free.find((e) => e.direct?.status === 'queued')
        ?? free.find((e) => (e.direct?.status === 'failed' || e.direct?.status === 'uncertain')
          && now.getTime() >= Date.parse(e.direct.at) + backoffDelay(RETRY_BACKOFF, e.direct.tries));
      if (!next) return;
      this.#lastTry = now.getTime();
      await this.#send(next, now);
    }
  }

  async #send(entry: BufferedAlert, now: Date): Promise<void> {
    const { notifier, channel, process } = this.deps;
    const dropped = this.#dropped;
    const log = { alert: { severity: entry.alert.severity, fingerprint: entry.alert.fingerprint, title: entry.alert.title }, channel };
    this.#sending = entry;
    entry.directId ??= `${process}:${(this.#seq += 1)}`;
    // A try that got no answer may have posted it: the next one looks for it before posting again.
    const checkSent = entry.direct?.status === 'uncertain';
    try {
      const delivered = await notifier.notify(this.deps.db, {
        kind: 'alert_direct', channel, alert: entry.alert, raisedAt: entry.at, process, state: entry.state, dropped, cap: CAP_TEXT,
        directId: entry.directId, checkSent,
      });
      this.#dropped -= dropped;
      entry.direct = { status: 'sent', channel: delivered.channel, ts: delivered.ts, at: now.toISOString() };
      this.#sent.push(now.getTime());
      this.forget(entry);
      this.deps.logger.warn({ ...log, ts: delivered.ts, dropped }, 'database unreachable: critical alert sent to Slack directly; it goes into the outbox when the database answers');
    } catch (err) {
      const tries = entry.direct?.status === 'failed' || entry.direct?.status === 'uncertain' ? entry.direct.tries + 1 : 1;
      const error = this.deps.scrub((err as Error)?.message ?? String(err)).slice(0, 300);
      // Once a try got no answer, the alert may be in Slack whatever a later try says.
      const uncertain = checkSent || (err as { uncertain?: unknown })?.uncertain === true;
      entry.direct = { status: uncertain ? 'uncertain' : 'failed', error, at: now.toISOString(), tries };
      this.deps.logger.error({ ...log, err, tries }, 'database unreachable and the direct send of a critical alert to Slack failed; kept and tried again');
    } finally {
      this.#sending = null;
    }
  }
}
