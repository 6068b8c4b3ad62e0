// Owns draining the alert outbox. Each tick takes every lane (a Slack channel or DM, or email)
// that has due work; per lane, inside one transaction, it locks the lane's pacing row and one due
// delivery with FOR UPDATE SKIP LOCKED (so two replicas never send the same message, nor send to
// one channel at once), sends, and records the outcome. What is due (a delivery's next try, a lane's
// next slot) is written and judged on the database's clock, so every replica agrees when. A lane sends at most one Slack message per
// SLACK_LANE_INTERVAL_MS (Slack allows ~1 message/second/channel); a 429 pushes the lane's next
// slot out by Retry-After. Nothing is dropped: a failure only records attempts, last_error and a
// later next_attempt_at. Only a message that stopped making sense is let go: as it is about to go
// out, a page (DM, "Paged …" note, alert email) whose group someone has since acknowledged,
// resolved or silenced is marked cancelled with the reason (checked in the database, so it holds
// whichever process took the action). From that check until the send is recorded the worker holds
// the group's send lock (shared), which those actions take exclusively: an action never commits
// between the check and the send, it waits for the send and then says in the thread what had
// already gone out. A page by DM that Slack refuses for good (no such user, deactivated)
// fails at once, the thread says the person was NOT reached, and the escalation moves on. A page is
// claimed in a commit of its own just before it is sent (the lane is simply taken again): a worker
// that dies between Slack taking the page and recording it leaves the claim, and whichever worker
// tries next looks for that page in the person's DM (the channel Slack named for an earlier page to
// them, recorded here) before posting it, so nobody is paged twice. Alert mail is claimed the same
// way, but mail cannot be looked for: a try that finds an earlier one unresolved (neither recorded
// sent nor certainly not sent: refused by the SMTP server or never connected) sends it again marked as possibly a repeat, and every try
// of a delivery carries one Message-ID, so mail clients can fold the two. Each lane has its notifier behind the one port (notifications/notification.ts):
// the chat notifier (src/slack) for `slack:*` lanes, the email notifier (src/email) for `email`;
// the worker turns a delivery into a notification and hands it to its lane's notifier.
import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { Db } from '../db/client.js';
import {
  bookLaneSlot, cancelIfStale, claimAgeMs, claimDeliverySend, claimOf, dueLanes, ensureLanePacing, holdGroupForSend, lockLanePacing, lockNextDelivery, markDeliveryDone, nextClaim, recordDeliveryFailed, recordDeliveryGaveUp, recordDeliverySent, recordedDmChannel,
  type SendClaim,
} from '../db/queries/alert-deliveries.js';
import { bringNextStepForward } from '../db/queries/alert-escalations.js';
import { enqueueThreadNote } from '../db/queries/alert-outbox.js';
import { alertEventById } from '../db/queries/alert-events.js';
import { alertGroupById } from '../db/queries/alert-groups.js';
import type { AlertDelivery } from '../db/schema/alerts.js';
import type { Logger } from '../logger.js';
import { certainlyNotSent, isPermanentFailure, retryAfterOf, type Notifier } from '../notifications/notification.js';
import { backoffDelay, type Backoff } from '../retry.js';
import type { AlertNotification } from './notifier.js';
import { syncGroup, type SyncOutcome } from './sync-group.js';
import { afterPageSent } from './late-pages.js';
import { afterPageDelivered } from './page-delivered.js';

export const SLACK_LANE_INTERVAL_MS = 1_000;
/** 2 s, 4 s, 8 s … at most 5 minutes between tries of one delivery. */
const RETRY_BACKOFF: Backoff = { baseMs: 2_000, maxMs: 5 * 60_000 };
const EMAILS_PER_TICK = 10;
const MAX_LANE_WAIT_MS = 15 * 60_000;

export interface DeliveryWorkerDeps {
  db: Db;
  clock: Clock;
  logger: Logger;
  /** The chat lanes' notifier (src/slack's); null when no alerts channel is configured. */
  chat: Notifier | null;
  /** The email lane's notifier (src/email's); null without SMTP. */
  email: Notifier | null;
  /** Who gets alert mail when a delivery names nobody itself (ALERT_EMAIL_TO). */
  emailTo: string[];
}

export interface TickReport {
  sent: number;
  failed: number;
  /** Messages let go because their group no longer needs them (acknowledged or resolved since). */
  cancelled: number;
  lanes: number;
  /** The lanes on which this tick tried to send (sent or failed): `email`, or a Slack lane. */
  triedLanes: string[];
}

/** A tick limited to one alert group's deliveries (`ctb alerts test` sends its own, nothing else). */
export interface TickScope {
  groupId: number;
  /**
   * When the caller stops ticking (epoch ms, this process's clock): a failure whose next try falls
   * after it is not said to be retried here — it is left queued.
   */
  triesUntil?: number;
}

/** Cancelled messages skipped on one lane in one tick, at most (each costs no Slack slot). */
const MAX_CANCELLED_PER_LANE = 50;

/** The wait before a delivery's next try, after `attempts` failed ones (the schedule is stored: next_attempt_at). */
export function backoffMs(attempts: number): number {
  return backoffDelay(RETRY_BACKOFF, attempts);
}

type Outcome = SyncOutcome;

/** Pages claimed on one lane in one tick, at most (each is sent right after, in the next transaction). */
const MAX_CLAIMS_PER_LANE = 5;

/** How long this worker keeps a claim it made for a send it has not made (see #claimed). */
const CLAIM_KEPT_MS = 60 * 60_000;

/** The kinds claimed in a commit of their own before each send (a worker could die after the service took one). */
const CLAIMED_KINDS: ReadonlySet<AlertDelivery['kind']> = new Set(['slack_dm', 'email']);

/**
 * The left part of an alert mail's Message-ID, the same on every try of its delivery. The delivery's
 * creation time keeps two databases' delivery 1 (a staging bot and a live one mailing one inbox)
 * from being one message: a mail client may hide the second of two mails with one Message-ID.
 */
export function alertMailKey(d: Pick<AlertDelivery, 'id' | 'groupId' | 'createdAt'>): string {
  return `alert-delivery-${d.id}.${d.groupId}.${d.createdAt.getTime()}`;
}

export class DeliveryWorker {
  readonly #log: Logger;
  /** This worker's name in the claims it writes (a restarted process is another worker). */
  readonly #token = randomUUID();
  /**
   * The claim this worker wrote on each page or mail it is about to send. One whose message another
   * process sent or cancelled meanwhile (an acknowledgement) is never looked at here again: it is let
   * go an hour after it was made.
   */
  readonly #claimed = new Map<number, SendClaim>();
  /**
   * Deliveries a scoped tick (`triesUntil`) said this process stops trying: later scoped ticks leave
   * them queued, so the log line stays true. Whether the next try falls inside the caller's wait is
   * judged on this process's clock, while a delivery comes due on the database's (its transaction's
   * now(), earlier on a loaded machine): it could otherwise be tried again after "left queued".
   */
  readonly #leftQueued = new Set<number>();
  constructor(private readonly deps: DeliveryWorkerDeps) {
    this.#log = deps.logger.child({ alertPipeline: true, component: 'alert-delivery' });
  }

  async tick(scope?: TickScope): Promise<TickReport> {
    const now = this.deps.clock.now();
    this.#forgetOldClaims(now);
    // No notifier in this process (no alerts channel, no SMTP): no lane is usable here, so the outbox
    // is left to a process that has one without being read, every second, for nothing.
    if (this.deps.chat === null && this.deps.email === null) return { sent: 0, failed: 0, cancelled: 0, lanes: 0, triedLanes: [] };
    const groupId = scope?.groupId;
    const lanes = await dueLanes(this.deps.db, { limit: 200, ...(groupId === undefined ? {} : { groupId }) });
    const report: TickReport = { sent: 0, failed: 0, cancelled: 0, lanes: lanes.length, triedLanes: [] };
    for (const lane of lanes) {
      if (!this.#laneUsable(lane)) continue;
      const rounds = lane === 'email' ? EMAILS_PER_TICK : 1;
      // Each mail is claimed before it is sent: as many claims as sends. Past the cap a message is
      // left unclaimed (the lane is done for this tick), never claimed and then not sent.
      const maxClaims = lane === 'email' ? EMAILS_PER_TICK : MAX_CLAIMS_PER_LANE;
      let sentHere = 0;
      let cancelledHere = 0;
      let claimedHere = 0;
      while (sentHere < rounds && cancelledHere < MAX_CANCELLED_PER_LANE) {
        const r = await this.#processLane(lane, now, scope, claimedHere < maxClaims);
        if (r === 'claimed') {
          claimedHere += 1;
          continue;
        }
        if (r === 'cancelled') {
          cancelledHere += 1;
          report.cancelled += 1;
          continue;
        }
        if ((r === 'failed' || r === 'sent') && !report.triedLanes.includes(lane)) report.triedLanes.push(lane);
        if (r === 'failed') report.failed += 1;
        if (r !== 'sent') break;
        sentHere += 1;
        report.sent += 1;
      }
    }
    return report;
  }

  #notifierOf(lane: string): Notifier | null {
    return lane === 'email' ? this.deps.email : this.deps.chat;
  }

  #laneUsable(lane: string): boolean {
    return this.#notifierOf(lane) !== null;
  }

  /** `mayClaim` false: a message that needs its claim first is left for the next tick ('idle'). */
  async #processLane(lane: string, now: Date, scope: TickScope | undefined, mayClaim: boolean): Promise<'sent' | 'failed' | 'cancelled' | 'claimed' | 'idle'> {
    const groupId = scope?.groupId;
    await ensureLanePacing(this.deps.db, lane);
    return this.deps.db.transaction(async (db) => {
      // Another replica is sending on this lane right now, or its slot is not open yet (on the
      // database's clock). A slot further out than any Retry-After we honour means that clock moved
      // backwards: it is ignored.
      const slot = await lockLanePacing(db, { lane, maxWaitMs: MAX_LANE_WAIT_MS });
      if (slot === null || !slot.open) return 'idle';
      const delivery = await lockNextDelivery(db, { lane, ...(groupId === undefined ? {} : { groupId }) });
      if (!delivery) return 'idle';
      if (scope?.triesUntil !== undefined && this.#leftQueued.has(delivery.id)) return 'idle';
      if (delivery.kind !== 'slack_sync' && !(await holdGroupForSend(db, delivery.groupId))) {
        // Someone is acknowledging, resolving or silencing the group right now: their decision
        // comes first; the message is looked at again on the next tick.
        return 'idle';
      }
      const stale = delivery.kind === 'slack_sync' ? null : await cancelIfStale(db, { id: delivery.id, at: now });
      if (stale !== null) {
        this.#log.info({ deliveryId: delivery.id, groupId: delivery.groupId, kind: delivery.kind, lane, reason: stale }, 'queued alert message no longer needed; cancelled');
        this.#claimed.delete(delivery.id);
        return 'cancelled';
      }
      if (CLAIMED_KINDS.has(delivery.kind) && !this.#holdsClaim(delivery)) {
        if (!mayClaim || await this.#anotherTryUnderWay(db, lane, delivery)) return 'idle';
        await this.#claim(db, delivery);
        return 'claimed';
      }
      try {
        const outcome = await this.#send(db, this.#notifierOf(lane)!, delivery, now);
        if (outcome.kind === 'noop') {
          await markDeliveryDone(db, { id: delivery.id, at: now });
          return 'idle';
        }
        await recordDeliverySent(db, { id: delivery.id, at: now, keepPending: outcome.keepPending === true, result: outcome.result });
        // Its alert's late mark may have been written while it was on its way: followed up under it then.
        if (delivery.kind === 'slack_dm') {
          await afterPageSent(db, { delivery, result: outcome.result, now });
          await afterPageDelivered(db, { delivery, now });
        }
        this.#claimed.delete(delivery.id);
        // Mail has no lane slot (EMAILS_PER_TICK paces it) but is a send all the same: the tick counts it and goes on.
        if (lane === 'email') return 'sent';
        if (!outcome.usedSlot) return 'idle';
        await bookLaneSlot(db, { lane, inMs: SLACK_LANE_INTERVAL_MS });
        return 'sent';
      } catch (err) {
        // It may have reached Slack all the same (a timeout): the next try claims afresh and looks first.
        // A mail the SMTP server refused or never reached did not go out: its claim says so, and the next try is no repeat of it.
        const claim = this.#claimed.get(delivery.id);
        this.#claimed.delete(delivery.id);
        if (claim !== undefined && certainlyNotSent(err)) await claimDeliverySend(db, { id: delivery.id, claim: { ...claim, notSent: true } });
        const failure = { message: (err as Error)?.message ?? String(err), retryAfterMs: retryAfterOf(err) };
        if (delivery.kind === 'slack_dm' && isPermanentFailure(err)) {
          await this.#pageUndeliverable(db, delivery, failure.message, now);
          await bookLaneSlot(db, { lane, inMs: SLACK_LANE_INTERVAL_MS });
          return 'failed';
        }
        const waitMs = failure.retryAfterMs ?? backoffMs(delivery.attempts + 1);
        const retryAt = await recordDeliveryFailed(db, { id: delivery.id, error: failure.message.slice(0, 500), inMs: waitMs });
        // A 429 closes the whole lane until Retry-After; other failures keep the normal spacing.
        await bookLaneSlot(db, { lane, inMs: failure.retryAfterMs ?? SLACK_LANE_INTERVAL_MS });
        const fields = { deliveryId: delivery.id, kind: delivery.kind, lane, attempts: delivery.attempts + 1, error: failure.message, retryAt: retryAt.toISOString() };
        // A caller that stops before the next try is due (ctb alerts test) does not retry it: no promise of one.
        if (scope?.triesUntil !== undefined && Date.now() + waitMs > scope.triesUntil) {
          this.#leftQueued.add(delivery.id);
          this.#log.warn(fields, 'alert delivery failed; this process stops trying before its next try is due: left queued');
        } else {
          this.#log.warn(fields, 'alert delivery failed; will retry');
        }
        return 'failed';
      }
    });
  }

  /** How many claims this worker holds for sends it has not made yet. */
  get claimsHeld(): number {
    return this.#claimed.size;
  }

  #forgetOldClaims(now: Date): void {
    for (const [id, claim] of this.#claimed) {
      if (claim.at === undefined || now.getTime() - Date.parse(claim.at) > CLAIM_KEPT_MS) this.#claimed.delete(id);
    }
  }

  /** True when the page's claim is the one this worker wrote for its send now (and committed). */
  #holdsClaim(d: AlertDelivery): boolean {
    const claim = claimOf(d);
    return claim !== undefined && claim.by === this.#token && this.#claimed.get(d.id)?.n === claim.n;
  }

  /**
   * Another process claimed this message so lately that it may be sending it now, or be about to (its
   * claim committed, the lane not yet locked again), and the service cannot be asked (mail): it is
   * left to that process for as long as one try can last. After a crash the next try waits that long.
   */
  async #anotherTryUnderWay(db: Db, lane: string, d: AlertDelivery): Promise<boolean> {
    const underWayMs = this.#notifierOf(lane)?.tryUnderWayMs;
    const claim = claimOf(d);
    if (underWayMs === undefined || claim === undefined || claim.by === this.#token || claim.notSent === true) return false;
    const age = await claimAgeMs(db, d.id);
    return age !== undefined && age < underWayMs;
  }

  /**
   * Claims the page or mail before sending it; a claim found unresolved makes a page's try look in
   * Slack first, and a mail's say it may be a repeat.
   */
  async #claim(db: Db, d: AlertDelivery): Promise<void> {
    const claim = nextClaim(claimOf(d), { by: this.#token, at: this.deps.clock.now() });
    await claimDeliverySend(db, { id: d.id, claim });
    this.#claimed.set(d.id, claim);
  }

  /** A page Slack refuses for good: failed now (never retried), said in the thread, and the ladder moves on. */
  async #pageUndeliverable(db: Db, d: AlertDelivery, error: string, now: Date): Promise<void> {
    await recordDeliveryGaveUp(db, { id: d.id, error: error.slice(0, 500) });
    const round = Number(d.payload.round);
    const step = Number(d.payload.step);
    const movedOn = Number.isInteger(round) && Number.isInteger(step)
      && await bringNextStepForward(db, { groupId: d.groupId, round, step, deliveryId: d.id, now });
    const group = await alertGroupById(db, d.groupId);
    if (group) {
      await enqueueThreadNote(db, {
        groupId: group.id, channel: group.slackChannel, now,
        text: `:x: The page could NOT be delivered to <@${d.target}> (${error}); it is not retried.${movedOn ? ' Escalating to the next step now.' : ''}`,
      });
    }
    this.#log.error({ deliveryId: d.id, user: d.target, groupId: d.groupId, error, movedOn }, 'a page could not be delivered: Slack refused it for good');
  }

  async #send(db: Db, notifier: Notifier, d: AlertDelivery, now: Date): Promise<Outcome> {
    if (d.kind === 'slack_sync') return syncGroup({ db, notifier, delivery: d, now });
    const notification = await this.#notificationOf(db, d);
    if (!notification) return { kind: 'noop' };
    const delivered = await notifier.notify(db, notification);
    return { kind: 'sent', result: delivered, usedSlot: d.kind !== 'email' };
  }

  /** What a queued single message tells; undefined when its alert group is gone. */
  async #notificationOf(db: Db, d: AlertDelivery): Promise<AlertNotification | undefined> {
    const text = String(d.payload.text ?? '');
    switch (d.kind) {
      case 'slack_sync':
        return undefined;
      case 'slack_thread_note': {
        // Under a page already delivered, in the person's DM (alert-outbox.ts enqueuePageFollowUp).
        if (typeof d.payload.threadTs === 'string') return { kind: 'alert_note', channel: d.target, threadTs: d.payload.threadTs, text };
        const group = await alertGroupById(db, d.groupId);
        return group ? { kind: 'alert_note', channel: group.slackChannel ?? d.target, threadTs: group.slackTs!, text } : undefined;
      }
      case 'slack_dm': {
        const checkSent = claimOf(d)?.uncertain === true;
        return { kind: 'alert_page', user: d.target, text, deliveryId: d.id, checkSent, ...(checkSent ? { dmChannel: await recordedDmChannel(db, d.target) } : {}) };
      }
      case 'email': {
        const group = await alertGroupById(db, d.groupId);
        if (!group) return undefined;
        const eventId = typeof d.payload.eventId === 'number' ? d.payload.eventId : null;
        const to = Array.isArray(d.payload.to) && d.payload.to.length > 0 ? (d.payload.to as string[]) : this.deps.emailTo;
        const latest = eventId === null ? undefined : await alertEventById(db, eventId);
        const claim = claimOf(d);
        const repeat = claim?.uncertain === true ? { earlierTryAt: claim.earlierAt === undefined ? undefined : new Date(claim.earlierAt) } : undefined;
        return { kind: 'alert_email', to, group, latest, reason: String(d.payload.reason ?? ''), messageKey: alertMailKey(d), repeat };
      }
    }
  }
}
