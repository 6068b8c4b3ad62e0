// Owns draining the alert outbox. Each tick takes every lane (a Slack channel or DM, or email)
// that has due work; per lane, inside one transaction, it locks the lane's pacing row and one due
// delivery with FOR UPDATE SKIP LOCKED (so two replicas never send the same message, nor send to
// one channel at once), sends, and records the outcome. A lane sends at most one Slack message per
// SLACK_LANE_INTERVAL_MS (Slack allows ~1 message/second/channel); a 429 pushes the lane's next
// slot out by Retry-After. Nothing is dropped: a failure only records attempts, last_error and a
// later next_attempt_at.
import { sql } from 'drizzle-orm';
import type { Clock } from '../clock.js';
import { execute, type Db } from '../db/client.js';
import { executePrepared } from '../db/prepared.js';
import type { AlertDelivery } from '../db/schema/alerts.js';
import type { Mailer } from '../email/smtp.js';
import type { Logger } from '../logger.js';
import { retryAfterOf, type AlertNotifier } from './notifier.js';
import { syncGroup, type SyncOutcome } from './sync-group.js';

export const SLACK_LANE_INTERVAL_MS = 1_000;
const MAX_BACKOFF_MS = 5 * 60_000;
const EMAILS_PER_TICK = 10;
const MAX_LANE_WAIT_MS = 15 * 60_000;

export interface DeliveryWorkerDeps {
  db: Db;
  clock: Clock;
  logger: Logger;
  /** Slack, through src/slack's notifier; null when no alerts channel is configured. */
  slack: AlertNotifier | null;
  mailer: Mailer | null;
  emailTo: string[];
}

export interface TickReport {
  sent: number;
  failed: number;
  lanes: number;
}

export function backoffMs(attempts: number): number {
  return Math.min(MAX_BACKOFF_MS, 2_000 * 2 ** Math.max(0, attempts - 1));
}

type Outcome = SyncOutcome;

export class DeliveryWorker {
  readonly #log: Logger;
  constructor(private readonly deps: DeliveryWorkerDeps) {
    this.#log = deps.logger.child({ alertPipeline: true, component: 'alert-delivery' });
  }

  async tick(): Promise<TickReport> {
    const now = this.deps.clock.now();
    const lanes = await execute<{ lane: string }>(this.deps.db, sql`
      select distinct lane from alert_deliveries
      where status = 'pending' and next_attempt_at <= ${now.toISOString()}::timestamptz
      limit 200`);
    const report: TickReport = { sent: 0, failed: 0, lanes: lanes.length };
    for (const { lane } of lanes) {
      if (!this.#laneUsable(lane)) continue;
      const rounds = lane === 'email' ? EMAILS_PER_TICK : 1;
      for (let i = 0; i < rounds; i += 1) {
        const r = await this.#processLane(lane, now);
        if (r === 'sent') report.sent += 1;
        else if (r === 'failed') report.failed += 1;
        if (r !== 'sent') break;
      }
    }
    return report;
  }

  #laneUsable(lane: string): boolean {
    return lane === 'email' ? this.deps.mailer !== null : this.deps.slack !== null;
  }

  async #processLane(lane: string, now: Date): Promise<'sent' | 'failed' | 'idle'> {
    const nowIso = now.toISOString();
    await execute(this.deps.db, sql`insert into alert_slack_pacing (lane, next_at) values (${lane}, 'epoch') on conflict do nothing`);
    return this.deps.db.transaction(async (tx) => {
      const db = tx as unknown as Db;
      const slot = await execute<{ next_at: Date | string }>(db, sql`
        select next_at from alert_slack_pacing where lane = ${lane} for update skip locked`);
      // Another replica is sending on this lane right now, or its slot is not open yet. A slot
      // further out than any Retry-After we honour means a clock moved backwards: ignore it.
      if (slot.length === 0) return 'idle';
      const nextAt = new Date(slot[0]!.next_at).getTime();
      if (nextAt > now.getTime() && nextAt - now.getTime() < MAX_LANE_WAIT_MS) return 'idle';
      const picked = await execute<Record<string, unknown>>(db, sql`
        select d.id from alert_deliveries d join alert_groups g on g.id = d.group_id
        where d.lane = ${lane} and d.status = 'pending' and d.next_attempt_at <= ${nowIso}::timestamptz
          and (d.kind <> 'slack_thread_note' or g.slack_ts is not null)
        order by d.priority desc, d.next_attempt_at, d.id
        limit 1
        for update of d skip locked`);
      if (picked.length === 0) return 'idle';
      const delivery = (await db.query.alertDeliveries.findFirst({ where: (d, { eq }) => eq(d.id, Number(picked[0]!.id)) }))!;
      try {
        const outcome = await this.#send(db, delivery, now);
        if (outcome.kind === 'noop') {
          await executePrepared(db, sql`update alert_deliveries set status = 'sent', sent_at = ${nowIso}::timestamptz where id = ${delivery.id}`);
          return 'idle';
        }
        await executePrepared(db, sql`
          update alert_deliveries set
            status = ${outcome.keepPending ? 'pending' : 'sent'},
            sent_at = ${outcome.keepPending ? null : nowIso}::timestamptz,
            next_attempt_at = ${nowIso}::timestamptz,
            result = ${JSON.stringify(outcome.result)}::jsonb,
            last_error = null
          where id = ${delivery.id}`);
        if (!outcome.usedSlot) return 'idle';
        if (lane !== 'email') await this.#bookSlot(db, lane, now.getTime() + SLACK_LANE_INTERVAL_MS);
        return 'sent';
      } catch (err) {
        const failure = { message: (err as Error)?.message ?? String(err), retryAfterMs: retryAfterOf(err) };
        const waitMs = failure.retryAfterMs ?? backoffMs(delivery.attempts + 1);
        const retryAt = new Date(now.getTime() + waitMs).toISOString();
        await execute(db, sql`
          update alert_deliveries set attempts = attempts + 1, last_error = ${failure.message.slice(0, 500)},
            next_attempt_at = ${retryAt}::timestamptz
          where id = ${delivery.id}`);
        // A 429 closes the whole lane until Retry-After; other failures keep the normal spacing.
        await this.#bookSlot(db, lane, now.getTime() + (failure.retryAfterMs ?? SLACK_LANE_INTERVAL_MS));
        this.#log.warn({ deliveryId: delivery.id, kind: delivery.kind, lane, attempts: delivery.attempts + 1, error: failure.message, retryAt },
          'alert delivery failed; will retry');
        return 'failed';
      }
    });
  }

  async #bookSlot(db: Db, lane: string, atMs: number): Promise<void> {
    await executePrepared(db, sql`update alert_slack_pacing set next_at = ${new Date(atMs).toISOString()}::timestamptz where lane = ${lane}`);
  }

  async #send(db: Db, d: AlertDelivery, now: Date): Promise<Outcome> {
    const slack = this.deps.slack;
    switch (d.kind) {
      case 'slack_sync':
        return syncGroup({ db, notifier: slack!, delivery: d, now });
      case 'slack_thread_note': {
        const group = await db.query.alertGroups.findFirst({ where: (g, { eq }) => eq(g.id, d.groupId) });
        const posted = await slack!.notify(db, { kind: 'alert_note', channel: group!.slackChannel ?? d.target, threadTs: group!.slackTs!, text: String(d.payload.text ?? '') });
        return { kind: 'sent', result: posted, usedSlot: true };
      }
      case 'slack_dm': {
        const posted = await slack!.notify(db, { kind: 'alert_page', user: d.target, text: String(d.payload.text ?? '') });
        return { kind: 'sent', result: posted, usedSlot: true };
      }
      case 'email': {
        const to = Array.isArray(d.payload.to) && d.payload.to.length > 0 ? (d.payload.to as string[]) : this.deps.emailTo;
        const sent = await this.deps.mailer!.send({ to, subject: String(d.payload.subject ?? '[ctb] alert'), text: String(d.payload.text ?? '') });
        return { kind: 'sent', result: sent, usedSlot: false };
      }
    }
  }
}
