// Owns idempotency for everything Slack sends, and forgetting its keys after a day: a global
// middleware acks first (no database on the ack path), then queues the work (acked-work.ts), which
// claims the delivery in slack_deliveries; a retry (X-Slack-Retry-Num) or a duplicate
// event_id/trigger_id loses the claim and reaches no listener. A small in-memory set answers repeats
// within this process even while the database is unreachable (a kill during an outage still runs).
// A status command's claim also reads the status rows, in the claim's statement: they reach the
// command as `context.statusRead`, its one read of them (services/mode-status.ts).
// A request turned away because the queue is full (shed-policy.ts says which go first, and which
// never) is neither remembered in the in-memory set nor claimed in slack_deliveries: nothing of it
// ran, so a retry of it (an event left un-acked, or an ack Slack got late) is processed, not deduped.
// Work whose turn comes too late to mean anything (shed-policy.ts, staleAfterMs: never the `risk` class:
// /kill, /mode paper, /exit, /pause and the buttons that take risk off) is dropped — when its slot comes, and again after its claim, which a stalled
// database holds — counted, logged, and the one who asked told through its response_url while that
// still answers.
import { createHash } from 'node:crypto';
import type { AllMiddlewareArgs, AnyMiddlewareArgs, Middleware } from '@slack/bolt';
import type { AppContext } from '../app/context.js';
import { claimSlackDelivery, claimSlackDeliveryReadingStatus, pruneSlackDeliveries } from '../db/queries/slack-deliveries.js';
import { ctbMetrics } from '../metrics/instruments.js';
import { AckedWork, type Staleness } from './acked-work.js';
import { postToResponseUrl } from './response-url.js';
import { RESPONSE_URL_TTL_MS, riskRequestsPhrase, shedAt, shedClassOf, staleAfterMs, type VoteEmoji } from './shed-policy.js';
import { payloadText } from './payload-field.js';

export interface Delivery {
  key: string;
  surface: 'event' | 'command' | 'action' | 'view' | 'options' | 'other';
  retryNum?: number | undefined;
}

type Body = Record<string, unknown>;

function digest(body: Body): string {
  return createHash('sha256').update(JSON.stringify(body)).digest('hex').slice(0, 32);
}

/** Pure: the idempotency key Slack gives (or implies for) a request body. */
export function deliveryOf(body: Body, retryNum?: number): Delivery {
  const type = payloadText(body.type);
  if (type === 'event_callback') {
    return { key: `event:${payloadText(body.event_id) ?? digest(body)}`, surface: 'event', retryNum };
  }
  if (payloadText(body.command)) {
    return { key: `command:${payloadText(body.trigger_id) ?? digest(body)}`, surface: 'command', retryNum };
  }
  if (type === 'block_actions') {
    const actions = (body.actions as Array<Record<string, unknown>> | undefined) ?? [];
    const actionTs = payloadText(actions[0]?.action_ts);
    return { key: `action:${payloadText(body.trigger_id) ?? actionTs ?? digest(body)}`, surface: 'action', retryNum };
  }
  if (type === 'view_submission' || type === 'view_closed') {
    return { key: `view:${payloadText(body.trigger_id) ?? digest(body)}`, surface: 'view', retryNum };
  }
  if (type === 'block_suggestion') return { key: `options:${digest(body)}`, surface: 'options', retryNum };
  return { key: `other:${digest(body)}`, surface: 'other', retryNum };
}

const isKill = (body: Body): boolean => body.command === '/kill';

/**
 * Remembers recent keys in this process; bounded, oldest forgotten first. The oldest is found in a
 * ring of the keys in arrival order, not as the Set's first value: a Set keeps its deleted entries
 * as holes until it is rebuilt, and its iterator walked over every one of them, thousands under a
 * steady stream of requests, to find the first key still there.
 */
export class RecentKeys {
  readonly #keys = new Set<string>();
  readonly #ring: string[] = [];
  #oldest = 0;
  constructor(private readonly limit = 5_000) {}
  /** True when the key is new (and now remembered). */
  add(given: string): boolean {
    if (this.#keys.has(given)) return false;
    // A copy of its own: a key is cut from the request's body (querystring.parse slices its values),
    // and V8 keeps the whole body alive behind a slice, so five thousand keys held five thousand bodies.
    const key = JSON.parse(JSON.stringify(given)) as string;
    this.#keys.add(key);
    if (this.#ring.length < this.limit) {
      this.#ring.push(key);
    } else {
      this.#keys.delete(this.#ring[this.#oldest]!);
      this.#ring[this.#oldest] = key;
      this.#oldest = (this.#oldest + 1) % this.limit;
    }
    return true;
  }
}

/** Acked work items started and not yet finished, at most (see deliveryGuard). */
export const ACKED_WORK_SLOTS = 32;

/**
 * Acked work items pending (waiting for a slot, or started and not finished), at most: past it a
 * request is turned away at its ack (a command is told so), so a flood, or a database that stalls
 * while requests keep coming, cannot grow the queue without end. At 300 commands a second the queue
 * stays in the tens (bench/slack-ack.ts); a thousand is seconds of work behind the last ack, and the
 * requests' bodies and closures it holds stay in the megabytes.
 */
export const ACKED_WORK_LIMIT = 1_000;

/**
 * Pending items past ACKED_WORK_LIMIT that only an operator's decision (a button, a modal, a vote
 * reaction) may take (shed-policy.ts). Those are human-paced: a few hundred of them waiting means
 * the work is not moving at all (a stalled database), not that people click fast.
 */
export const DECISION_HEADROOM = 500;

/** How often turning requests away is logged at most (every one is counted in ctb_slack_requests_shed_total). */
export const SHED_LOG_EVERY_MS = 60_000;

/** The queue's bounds (tests make them small, and the lease long, to fill it without a race against the clock). */
export interface AckedWorkLimits {
  slots: number;
  limit: number;
  leaseMs: number;
  shedLogEveryMs: number;
  /** Past `limit`, room kept for operators' decisions (DECISION_HEADROOM). */
  decisionHeadroom: number;
}

/** What a command turned away is told, in its ack (ephemeral: only the one who typed it sees it). */
export function busyText(command: string, limit: number): string {
  return `:hourglass: The bot is busy: ${limit} Slack requests are already waiting to be worked on, so \`${command}\` was not run. `
    + `Try again in a minute. (${riskRequestsPhrase()} are never held back: they run, busy or not.)`;
}

/** What the one who pressed a button is told when the press is turned away (ephemeral, through its response_url). */
export const BUSY_ACTION_TEXT = ':hourglass: Not done: the bot is busy (its Slack work is not moving), so this press was not taken in. '
  + `Press the button again in a minute. (${riskRequestsPhrase()} are never held back.)`;

/** What the one who asked is told when their request's work was dropped as too old (ephemeral, through its response_url). */
export function staleText(what: string, ageMs: number): string {
  return `:hourglass: Not done: ${what} waited ${Math.floor(ageMs / 60_000)} min behind Slack work that was not moving, too long to act on now. `
    + `Do it again if it still matters. (${riskRequestsPhrase()} are never dropped: they run however late.)`;
}

/**
 * Logs requests turned away at most once per interval (the first at once), with how many since the
 * last line: a flood sheds thousands a second, and a line each would be the next flood.
 */
class ShedLog {
  #count = 0;
  #lastAt = Number.NEGATIVE_INFINITY;
  constructor(
    private readonly ctx: Pick<AppContext, 'clock' | 'logger'>,
    private readonly everyMs: number,
    private readonly line: (count: number, last: Delivery) => [Record<string, unknown>, string],
  ) {}

  note(delivery: Delivery): void {
    this.#count += 1;
    const now = this.ctx.clock.now().getTime();
    if (now - this.#lastAt < this.everyMs) return;
    const [fields, msg] = this.line(this.#count, delivery);
    this.ctx.logger.warn(fields, msg);
    this.#count = 0;
    this.#lastAt = now;
  }
}

export interface DeliveryGuardHooks {
  /** Called around each accepted request: tests and the bench wait for in-flight work with it. */
  onStart?(): () => void;
  /** Where a failure of acked work goes (the app's error handler: it replies with a reference id). */
  onError?(error: Error, body: unknown, receivedAt?: unknown): Promise<void>;
  /** Whether the request's work starts with the status read (a status command): its claim makes that read. */
  readsStatus?(body: Record<string, unknown>): boolean;
  /** How a button press turned away, or a request dropped as too old, is told (default: a POST to its response_url, no database). */
  tellShedAction?(responseUrl: string, message: { response_type: 'ephemeral'; replace_original: false; text: string }): Promise<void>;
  /**
   * The listener table's work for a request the table takes (listeners/register.ts, tableDispatch),
   * holding only what its rows read: run in place of Bolt's `next`, with a context of its own.
   * Undefined: the request goes on through Bolt's chain.
   */
  detach?(args: AnyMiddlewareArgs & AllMiddlewareArgs): ((context: Record<string, unknown>) => Promise<void>) | undefined;
}

type Proceed = (context: Record<string, unknown>) => Promise<void>;

/**
 * Claims the delivery (with the status rows for a status command), then proceeds with `context`
 * carrying them; a delivery already taken in proceeds no further. Without the database only the
 * in-memory set guarded against repeats: it still proceeds, because the commands that matter during
 * an outage (kill) are idempotent and must not be blocked.
 */
async function claimThenProceed(
  ctx: Pick<AppContext, 'db' | 'clock' | 'logger'>,
  readsStatus: DeliveryGuardHooks['readsStatus'],
  delivery: Delivery,
  body: Body,
  context: Record<string, unknown>,
  proceed: Proceed,
  onDuplicate?: () => Promise<void>,
): Promise<void> {
  let fresh = true;
  try {
    const claim = { db: ctx.db, key: delivery.key, surface: delivery.surface, receivedAt: ctx.clock.now(), retryNum: delivery.retryNum };
    if (readsStatus?.(body)) {
      const outcome = await claimSlackDeliveryReadingStatus(claim);
      fresh = outcome.taken;
      context.statusRead = outcome.status;
    } else {
      fresh = await claimSlackDelivery(claim);
    }
  } catch (err) {
    ctx.logger.warn({ err, delivery }, 'could not record the Slack delivery; relying on the in-process duplicate check');
  }
  if (!fresh) {
    ctx.logger.info({ delivery }, 'duplicate Slack delivery ignored (already taken in)');
    if (onDuplicate) await onDuplicate();
    return;
  }
  // Claims share statements, and a statement's claims resume one per turn of the event loop
  // (shared-writes.ts): this listener runs in a turn of its own, after that turn's reads and acks.
  await proceed(context);
}

/**
 * Queues a request's work after its ack. The closure is made here, not in the guard's middleware:
 * one made there would share the middleware's scope, and with it Bolt's ack and `next`, and so keep
 * Bolt's arguments for the request (its middleware chain, a copy of the arguments per step) alive
 * for as long as the work waits for a slot.
 */
function enqueue(
  queue: AckedWork,
  ctx: Pick<AppContext, 'db' | 'clock' | 'logger'>,
  hooks: DeliveryGuardHooks,
  delivery: Delivery,
  body: Body,
  context: Record<string, unknown>,
  proceed: Proceed,
  done: (() => void) | undefined,
  stale: Staleness,
): void {
  queue.run((ageMs) =>
    // Asked again after the claim: a stalled database holds it, and the work after it is what is late.
    claimThenProceed(ctx, hooks.readsStatus, delivery, body, context, async (c) => (ageMs() > stale.afterMs ? stale.drop(ageMs()) : proceed(c)))
      .finally(done)
      .catch(async (err: unknown) => {
        const error = err instanceof Error ? err : new Error(String(err));
        if (hooks.onError) await hooks.onError(error, body, context.receivedAt);
        else throw error;
      }),
    // Dropped before it started: what waits for the accepted request's end (onStart) is told it ended.
    { afterMs: stale.afterMs, drop: (ageMs) => Promise.resolve(stale.drop(ageMs)).finally(done) },
  );
}

/**
 * Global middleware. Acks every ackable request at once (listeners never ack themselves), except
 * view submissions and option requests, whose ack carries the answer: those are claimed first.
 * A request the listener table takes (hooks.detach) leaves Bolt at its ack: its queued work holds
 * what its rows read, not Bolt's arguments, so those die young, in the turn that made them. Held
 * until the work was done — under load tens of milliseconds, through a claim's group commit and a
 * reply — they survived young-generation collections and were copied, then promoted, by each.
 */
export function deliveryGuard(
  ctx: Pick<AppContext, 'db' | 'clock' | 'logger'> & { config: VoteEmoji } & Partial<Pick<AppContext, 'metrics'>>,
  hooks: DeliveryGuardHooks = {},
  limits: Partial<AckedWorkLimits> = {},
): Middleware<AnyMiddlewareArgs> {
  const recent = new RecentKeys();
  // ACKED_WORK_SLOTS at a time, a slot held at most a second. Under load an item spends most of
  // its slot waiting for the group commit of its claim and of its trail row (up to BUSY_WINDOW_MS
  // each, coalesce.ts), using no CPU: with four slots the work fell behind at 300 commands a second
  // (replies seconds late); 300 a second need about fourteen, and thirty-two leave room for a burst
  // while still starting at most thirty-two items between two acks.
  // Measured with bench/slack-ack.ts (two slots, before the window, was worse than four: the
  // backlog's memory cost more in GC than the fewer concurrent items saved).
  const limit = limits.limit ?? ACKED_WORK_LIMIT;
  const queue = new AckedWork({
    concurrency: limits.slots ?? ACKED_WORK_SLOTS,
    leaseMs: limits.leaseMs ?? 1_000,
    limit,
    onError: (err) => ctx.logger.error({ err }, 'Slack work failed after its ack'),
    clock: ctx.clock,
  });
  const ackSeconds = ctx.metrics ? ctbMetrics(ctx.metrics).slackAckSeconds : undefined;
  const shedCount = ctx.metrics ? ctbMetrics(ctx.metrics).slackShed : undefined;
  const shedLog = new ShedLog(ctx, limits.shedLogEveryMs ?? SHED_LOG_EVERY_MS, (count, last) => [
    { shed: count, limit, last },
    `Slack requests turned away as busy: ${count} since the last line (${limit} already pending); ${riskRequestsPhrase()} never are`,
  ]);
  const staleCount = ctx.metrics ? ctbMetrics(ctx.metrics).slackStale : undefined;
  const staleLog = new ShedLog(ctx, limits.shedLogEveryMs ?? SHED_LOG_EVERY_MS, (count, last) => [
    { stale: count, last },
    `Slack requests dropped as too old to act on when their turn came: ${count} since the last line; ${riskRequestsPhrase()} never are`,
  ]);
  const decisionHeadroom = limits.decisionHeadroom ?? DECISION_HEADROOM;
  const tellShedAction = hooks.tellShedAction ?? ((url, message) => postToResponseUrl(url, message));
  /**
   * A command is told "busy" in its ack; a button press is acked and told through its response_url
   * (Slack never redelivers one); a vote reaction is left un-acked, so that Slack delivers it again
   * (about a minute, then five, later) and it counts then; any other event is acked and dropped.
   */
  const turnAway = async (body: Body, delivery: Delivery, ack: ((answer?: { response_type: 'ephemeral'; text: string }) => Promise<void>) | undefined) => {
    shedCount?.inc({ surface: delivery.surface });
    shedLog.note(delivery);
    const command = payloadText(body.command);
    if (command) {
      if (ack) await ack({ response_type: 'ephemeral', text: busyText(command, limit) });
      return;
    }
    if (delivery.surface === 'event' && shedClassOf(body, ctx.config) === 'decision') {
      ctx.logger.warn({ delivery }, 'a vote reaction was left un-acked as busy: Slack delivers it again shortly');
      return;
    }
    if (ack) await ack();
    const responseUrl = payloadText(body.response_url);
    if (delivery.surface === 'action' && responseUrl) {
      // Not awaited: the POST must not hold this request's arguments, nor the next ack.
      void tellShedAction(responseUrl, { response_type: 'ephemeral', replace_original: false, text: BUSY_ACTION_TEXT })
        .catch((err: unknown) => ctx.logger.warn({ err, delivery }, 'could not tell the presser that the button press was turned away'));
    }
  };
  /**
   * Work too old when its turn comes: counted, logged (at most once an interval), and the one who
   * asked told through the response_url while Slack still honours it; past that nobody can be.
   */
  const staleness = (body: Body, delivery: Delivery, afterMs: number): Staleness => ({
    afterMs,
    drop: async (ageMs) => {
      staleCount?.inc({ surface: delivery.surface });
      staleLog.note(delivery);
      const responseUrl = payloadText(body.response_url);
      const command = payloadText(body.command);
      const what = command ? `\`${command}\`` : 'this button press';
      if (!responseUrl || !(command || delivery.surface === 'action')) return;
      if (ageMs >= RESPONSE_URL_TTL_MS) {
        ctx.logger.warn({ delivery, ageMs }, `a Slack request dropped as too old could not be told so: its response_url expired after ${RESPONSE_URL_TTL_MS / 60_000} min`);
        return;
      }
      await tellShedAction(responseUrl, { response_type: 'ephemeral', replace_original: false, text: staleText(what, ageMs) })
        .catch((err: unknown) => ctx.logger.warn({ err, delivery }, 'could not tell the one who asked that their request was too old to act on'));
    },
  });
  return async (args) => {
    const { body, context, next } = args;
    const started = performance.now();
    const receivedAt = ctx.clock.now().getTime();
    const delivery = deliveryOf(body as unknown as Body, context.retryNum);
    context.delivery = delivery;
    const slackAck = 'ack' in args && typeof args.ack === 'function' ? (args.ack as (answer?: { response_type: 'ephemeral'; text: string }) => Promise<void>) : undefined;
    // ctb_slack_ack_duration_seconds: Slack retries anything not acked within 3 s.
    const ack = slackAck
      ? async (answer?: { response_type: 'ephemeral'; text: string }) => {
          await slackAck(answer);
          ackSeconds?.observe({ surface: delivery.surface }, (performance.now() - started) / 1000);
        }
      : undefined;
    const listenerAcks = delivery.surface === 'view' || delivery.surface === 'options';
    // The queue full for its kind (shed-policy.ts): turned away at the ack, never queued, never
    // remembered (a retry of it runs). A view or option request is not queued (answered in its ack).
    const shedClass = shedClassOf(body as unknown as Body, ctx.config);
    if (!listenerAcks && queue.pending >= shedAt(shedClass, limit, decisionHeadroom)) {
      await turnAway(body as unknown as Body, delivery, ack);
      return;
    }
    if (ack && !listenerAcks) await ack();

    if (!recent.add(delivery.key)) {
      ctx.logger.info({ delivery }, 'duplicate Slack delivery ignored');
      if (ack && listenerAcks) await ack();
      return;
    }
    // The table's rows run with a context of their own (the delivery, and the status rows its claim
    // read); anything else goes on through Bolt's chain, with Bolt's context. Before onStart: a
    // detach that throws must not leave a request counted in flight that never ends (stop() would
    // wait for it in vain).
    const detached = listenerAcks ? undefined : hooks.detach?.(args);
    const done = hooks.onStart?.();
    // When Slack sent it, as near as this process knows: its response_url's life runs from here (reply.ts).
    context.receivedAt = receivedAt;
    const own: Record<string, unknown> = detached ? { delivery, receivedAt } : context;
    const proceed: Proceed = detached ?? (() => next());
    if (isKill(body as unknown as Body)) {
      // /kill must not wait for the database (it may be stalled, not just down): the claim is
      // recorded on the side, and the kill itself is keyed by this delivery, so a retry reaching
      // another replica joins the same kill instead of doing anything twice.
      claimSlackDelivery({ db: ctx.db, key: delivery.key, surface: delivery.surface, receivedAt: ctx.clock.now(), retryNum: delivery.retryNum })
        .catch((err: unknown) => ctx.logger.warn({ err, delivery }, 'could not record the /kill delivery'));
      try {
        await proceed(own);
      } finally {
        done?.();
      }
      return;
    }
    // A view submission's or option request's answer is its ack: it runs now, Slack is waiting.
    if (listenerAcks) {
      try {
        await claimThenProceed(ctx, hooks.readsStatus, delivery, body as unknown as Body, own, proceed, ack);
      } finally {
        done?.();
      }
      return;
    }
    // Everything else was acked above; its work is queued so it cannot delay the next acks.
    enqueue(queue, ctx, hooks, delivery, body as unknown as Body, own, proceed, done, staleness(body as unknown as Body, delivery, staleAfterMs(shedClass, body as unknown as Body)));
  };
}

/** Slack stops retrying after about an hour; a day of delivery keys is plenty. */
const DELIVERY_RETENTION_MS = 24 * 60 * 60 * 1000;

/** The hourly job that forgets delivery keys older than Slack's retry window (once per period across replicas). */
export function scheduleDeliveryPrune(ctx: Pick<AppContext, 'db' | 'clock' | 'logger' | 'jobs'>): void {
  ctx.jobs.register({
    name: 'slack-deliveries-prune',
    schedule: '0 17 * * * *',
    trades: false,
    run: async () => {
      const removed = await pruneSlackDeliveries({ db: ctx.db, olderThan: new Date(ctx.clock.now().getTime() - DELIVERY_RETENTION_MS) });
      if (removed > 0) ctx.logger.debug({ removed }, 'pruned old Slack delivery keys');
    },
  });
}
