// Owns the escalation ladder. Timers are alert_escalations rows with a due time; a tick takes the
// due ones with FOR UPDATE SKIP LOCKED, so they survive restarts and two replicas page once (the
// unique alert_pages row is a second guard). Each step pages its rung — on-call, next in rotation,
// all approvers — by DM (and email when the policy says so), then sets the next due time one ACK
// SLA later. The thread says "Paged …" only once a DM is delivered, and that delivery restarts the
// deadline (page-delivered.ts); pages still queued when the next step is due are given up and said
// undelivered, so a later page never overtakes an earlier one and a Slack outage never stops the
// ladder (nor what an overdue critical fires). After the last rung a new round starts, up to the
// policy's limit. Nobody to page on a rung falls through to the approvers, and with no approvers
// to the whole channel: a page is never dropped. A silence pauses the timer until it ends; if the
// group is still open then (nobody acknowledged or resolved it), the ladder starts again from its
// first rung, as a fresh run of rounds (pages are recorded by absolute round, so none is deduplicated away).
// Every replica pages by the one stored policy per severity (policy.ts pagingPolicy): the first to
// need one stores its configured default; a replica whose ESCALATION_* differ says so at start.
import { hostname } from 'node:os';
import type { Registry } from 'prom-client';
import { ctbMetrics } from '../metrics/instruments.js';
import type { Clock } from '../clock.js';
import type { Config } from '../config/env.js';
import type { Db } from '../db/client.js';
import { describeDuration } from '../config/duration.js';
import { advanceEscalation, anyDueEscalation, endEscalation, escalationById, lockDueEscalations, pagedInRound, recordPage, silenceEscalation } from '../db/queries/alert-escalations.js';
import { alertGroupById, latestAlertEvent, latestAlertEventOf } from '../db/queries/alert-groups.js';
import { databaseNow } from '../db/queries/database-clock.js';
import type { AlertEscalation, AlertGroup } from '../db/schema/alerts.js';
import { emailConfigured } from '../email/smtp.js';
import type { Logger } from '../logger.js';
import { whoIsOnCall } from '../services/oncall/who-is-on-call.js';
import { enqueueDelivery, enqueueThreadNote } from '../db/queries/alert-outbox.js';
import { giveUpUndeliveredPages, type UndeliveredPage } from '../db/queries/alert-deliveries.js';
import type { OverdueCritical, OverdueHooks } from './overdue.js';
import { pagingPolicy, type EscalationPolicy, type Rung } from './policy.js';
import type { Severity } from './types.js';
import { emailPayload, headline, pageMessage, who } from './render.js';

export interface EscalationDeps {
  db: Db;
  clock: Clock;
  logger: Logger;
  config: Config;
  overdue?: OverdueHooks | undefined;
  /** ctb_alert_escalations_total{step} is counted here when given. */
  metrics?: Registry | undefined;
}

const BATCH = 20;
const RUNG_LABEL: Record<Rung, string> = { oncall: 'on-call', next: 'next in rotation', approvers: 'all approvers' };

interface Targets {
  users: string[];
  reason: string;
  channelWide: boolean;
}

const SEVERITIES: Severity[] = ['critical', 'warning', 'info'];

export class EscalationTicker {
  readonly #log: Logger;
  /** Who stored a policy, as its row names it: this process's configuration. */
  readonly #by = `config of ${hostname()}:${process.pid}`;
  constructor(private readonly deps: EscalationDeps) {
    this.#log = deps.logger.child({ alertPipeline: true, component: 'alert-escalation' });
  }

  #policy(db: Db, severity: Severity, now: Date): Promise<EscalationPolicy> {
    return pagingPolicy(db, { severity, config: this.deps.config, now, by: this.#by });
  }

  /**
   * At start: stores this process's configured policy for each severity that has none (the first
   * writer wins) and warns when ESCALATION_* set here differ from the stored one, which paging follows.
   */
  async adoptPolicies(): Promise<EscalationPolicy[]> {
    const now = this.deps.clock.now();
    const policies: EscalationPolicy[] = [];
    for (const severity of SEVERITIES) policies.push(await this.#policy(this.deps.db, severity, now));
    const differing = policies.filter((p) => p.envIgnored.length > 0);
    if (differing.length > 0) {
      const env = [...new Set(differing.flatMap((p) => p.envIgnored))];
      const own = env.map((name) => `${name}=${name === 'ESCALATION_ACK_SLA' ? describeDuration(this.deps.config.ESCALATION_ACK_SLA) : this.deps.config.ESCALATION_MAX_ROUNDS}`).join(', ');
      const stored = differing.map((p) => `${p.severity}: ACK SLA ${describeDuration(p.ackSlaMs)}, ${p.maxRounds} round(s), stored by ${p.source.updatedBy ?? '?'} at ${p.source.updatedAt ?? '?'}`).join('; ');
      this.#log.warn({ envIgnored: env, stored: differing.map((p) => ({ severity: p.severity, ackSlaMs: p.ackSlaMs, maxRounds: p.maxRounds })) },
        `This process's ${own} differ${env.length > 1 ? '' : 's'} from the stored escalation policy (${stored}); paging follows the stored policy on every replica. Change it with \`ctb oncall set --ack-sla … --max-rounds …\`, or set ${env.join(' / ')} to match.`);
    }
    return policies;
  }

  /**
   * Runs every due step once (only `scope.groupId`'s when given: `ctb alerts test` steps its own
   * alert, never the bot's). Returns how many steps ran here (0 when another replica took them).
   */
  async tick(scope?: { groupId: number }): Promise<number> {
    // One read when nothing is due (nearly every tick), not a transaction that locks nothing.
    if (!(await anyDueEscalation(this.deps.db, scope?.groupId))) return 0;
    let ran = 0;
    for (;;) {
      const { steps, overdue } = await this.#batch(scope?.groupId);
      ran += steps;
      for (const alert of overdue) {
        const failures = (await this.deps.overdue?.emit(alert)) ?? [];
        for (const err of failures) this.#log.error({ err, groupId: alert.groupId }, 'an overdue-critical handler failed');
      }
      if (steps < BATCH) return ran;
    }
  }

  async #batch(groupId: number | undefined): Promise<{ steps: number; overdue: OverdueCritical[] }> {
    const now = this.deps.clock.now();
    return this.deps.db.transaction(async (db) => {
      const due = await lockDueEscalations(db, { limit: BATCH, ...(groupId === undefined ? {} : { groupId }) });
      const overdue: OverdueCritical[] = [];
      // A silence is judged on the database's clock, which it was written on (silenced_until).
      const dbNow = due.length > 0 ? await databaseNow(db) : now;
      for (const id of due) {
        const esc = (await escalationById(db, id))!;
        const found = await this.#step(db, esc, now, dbNow);
        if (found) overdue.push(found);
      }
      return { steps: due.length, overdue };
    });
  }

  async #step(db: Db, esc: AlertEscalation, now: Date, dbNow: Date): Promise<OverdueCritical | null> {
    const group = await alertGroupById(db, esc.groupId);
    if (!group || group.status !== 'open') {
      await this.#update(db, esc.id, { status: 'stopped', stoppedReason: !group ? 'group gone' : group.status, now });
      return null;
    }
    if (group.silencedUntil != null && group.silencedUntil > dbNow) {
      // Paused, not stopped: due again when the silence ends (on the database's clock, as it was written).
      const reason = `silenced by ${group.silencedBy ?? 'someone'} until ${group.silencedUntil.toISOString()}`;
      await silenceEscalation(db, { id: esc.id, reason, until: group.silencedUntil, now: dbNow });
      return null;
    }
    const policy = await this.#policy(db, esc.severity, now);
    // Pages still queued past their step's deadline (Slack unreachable): given up, so no later page
    // overtakes them, and said in the thread and by email; the ladder goes on without them. One a
    // worker is handing to Slack right now is waited for: the step runs on a later tick.
    const undelivered = await giveUpUndeliveredPages(db, { groupId: group.id });
    if (undelivered === null) return null;
    if (undelivered.length > 0) await this.#sayUndelivered(db, group, undelivered, { now, email: policy.email });
    // A rehearsal pages each rung once (one round) and is never "overdue": it shows the team the
    // ladder without paging all night or firing what a real unanswered critical fires (auto-kill).
    const maxRounds = group.test ? 1 : policy.maxRounds;
    let { round, step, roundBase } = esc;
    if (esc.status === 'silenced') {
      // The silence is over and the alert is still open: page again from the first rung, as a new run.
      roundBase = round;
      round += 1;
      step = 0;
      await enqueueThreadNote(db, {
        groupId: group.id, channel: group.slackChannel, now, relevance: 'until_ack',
        text: ':bell: The silence is over and this alert is still open: paging starts again from the first rung.',
      });
    }
    if (step >= policy.steps.length) {
      round += 1;
      step = 0;
    }
    if (policy.steps.length === 0 || round - roundBase > maxRounds) {
      await enqueueThreadNote(db, {
        groupId: group.id, channel: group.slackChannel, now, relevance: 'until_ack',
        text: group.test
          ? ':information_source: Test alert: the escalation ran its ladder once and stops here (a rehearsal never escalates further).'
          : `:warning: Escalation exhausted after ${maxRounds} round(s); still not acknowledged. The alert stays open.`,
      });
      if (policy.email && emailConfigured(this.deps.config)) {
        await enqueueDelivery(db, { groupId: group.id, kind: 'email', target: 'alert-email', now, payload: emailPayload('escalation exhausted, still unacknowledged') });
      }
      await this.#update(db, esc.id, { status: 'exhausted', stoppedReason: 'max rounds', now });
      return null;
    }
    const rung = policy.steps[step]!;
    const targets = await this.#targets(db, rung, { groupId: group.id, round });
    const label = `${RUNG_LABEL[rung]}, round ${round - roundBase}/${maxRounds}, step ${step + 1}/${policy.steps.length}`;
    const first = step === 0 && round - roundBase === 1;
    await this.#page(db, group, targets, { round, step, first, label, now, email: policy.email, slaMs: policy.ackSlaMs });
    if (this.deps.metrics) ctbMetrics(this.deps.metrics).escalations.inc({ step: rung });

    // The first rung's deadline has passed once a later rung runs (or the ladder comes round again).
    // Both moments are the database's (the next step one ACK SLA after its now(), overdue at that now()).
    const becameOverdue = !first && esc.overdueAt === null && !group.test;
    const overdueAt = await advanceEscalation(db, { id: esc.id, round, roundBase, step: step + 1, inMs: policy.ackSlaMs, overdue: becameOverdue, now });
    return becameOverdue && overdueAt
      ? { groupId: group.id, fingerprint: group.fingerprint, title: group.title, source: group.source, firstAt: group.firstAt, overdueAt }
      : null;
  }

  /**
   * Who a rung pages is decided when the step runs, from who is on call at that moment (a handoff or
   * an override can fall between two steps). "Next in rotation" pages the person on call now when
   * nobody has paged them yet in this round (the incoming on-call after a handoff, or an override
   * that began mid-round); otherwise the first of onCallAt's successors (the scheduled member while
   * an override holds the pager, then the rotation order) not yet paged in this round. Nobody is
   * paged twice in one round: an approver already paged on an earlier rung (a rotation member who
   * is also an approver) is left out of the approvers' rung, and a rung with nobody left pages nobody.
   */
  async #targets(db: Db, rung: Rung, at: { groupId: number; round: number }): Promise<Targets> {
    const paged = await pagedInRound(db, at);
    const approvers = this.deps.config.SLACK_APPROVERS;
    const unpaged = approvers.filter((u) => !paged.has(u));
    const toApprovers = (reason: string): Targets =>
      unpaged.length > 0
        ? { users: unpaged, reason: unpaged.length < approvers.length ? `${reason} not yet paged this round` : reason, channelWide: false }
        : { users: [], reason: 'every approver was already paged this round', channelWide: false };
    const fallback = (why: string): Targets =>
      approvers.length > 0
        ? toApprovers(`${why}: paging all approvers`)
        : { users: [], reason: `${why} and no approvers configured: paging the whole channel`, channelWide: true };
    if (rung === 'approvers') return approvers.length > 0 ? toApprovers('all approvers') : fallback('no approvers');
    // On the database's clock (this transaction's now()): replicas whose clocks differ page the same person.
    const oncall = await whoIsOnCall(db);
    const onCallReason = oncall.via === 'override' ? 'on-call (override)' : 'on-call';
    if (rung === 'oncall') {
      if (oncall.primary && !paged.has(oncall.primary)) return { users: [oncall.primary], reason: onCallReason, channelWide: false };
      return oncall.primary ? { users: [], reason: `${onCallReason} was already paged this round`, channelWide: false } : fallback('nobody is on call');
    }
    if (oncall.primary && !paged.has(oncall.primary)) {
      return { users: [oncall.primary], reason: `${onCallReason} now, not yet paged this round`, channelWide: false };
    }
    const next = oncall.successors.find((u) => !paged.has(u));
    return next ? { users: [next], reason: 'next in rotation', channelWide: false } : fallback('nobody else in the rotation');
  }

  async #page(db: Db, group: AlertGroup, targets: Targets, at: { round: number; step: number; first: boolean; label: string; now: Date; email: boolean; slaMs: number }): Promise<void> {
    const fresh: string[] = [];
    const pagedNote = (mentions: string) =>
      `:pager: Paged ${mentions} (${at.label}; ${targets.reason}). Acknowledge within ${describeDuration(at.slaMs)} or it escalates.`;
    // A page for an alert stored late says so (raised when, stored when): the latest event at the
    // group's severity, the one that pages, not the event that opened the group (a late warning may
    // open a group a prompt critical then escalates).
    const first = targets.users.length > 0 && group.slackChannel ? await latestAlertEventOf(db, group.id, group.severity) : undefined;
    for (const userId of targets.users) {
      const newPage = await recordPage(db, { groupId: group.id, round: at.round, step: at.step, userId, reason: targets.reason, at: at.now });
      if (!newPage) continue; // already paged for this rung (another replica)
      fresh.push(userId);
      if (group.slackChannel) {
        // "Paged …" goes in the thread once this page is delivered, and its deadline counts from then (page-delivered.ts).
        await enqueueDelivery(db, { groupId: group.id, kind: 'slack_dm', target: userId, now: at.now, payload: {
            text: pageMessage(group, at.label, first), round: at.round, step: at.step, rung: at.label, slaMs: at.slaMs, pagedNote: pagedNote(who(userId)),
            // The event it is about: a late mark written after the page was queued or sent follows it (late-pages.ts).
            ...(first ? { eventId: first.id } : {}),
          } });
      }
    }
    if (!targets.channelWide && targets.users.length === 0) {
      await enqueueThreadNote(db, {
        groupId: group.id, channel: group.slackChannel, now: at.now, relevance: 'until_ack',
        text: `:information_source: Nobody paged at ${at.label}: ${targets.reason} (nobody is paged twice in one round).`,
      });
      return;
    }
    if (!targets.channelWide && fresh.length === 0) return;
    // The whole channel is paged by the thread line itself.
    if (targets.channelWide) await enqueueThreadNote(db, { groupId: group.id, channel: group.slackChannel, now: at.now, relevance: 'until_ack', text: pagedNote('<!channel>') });
    const emailed = at.email && emailConfigured(this.deps.config);
    if (emailed) {
      const reason = at.first ? 'critical alert' : `escalated: ${at.label}`;
      const latest = await latestAlertEvent(db, group.id);
      const paged = targets.users.join(', ') || 'the whole channel';
      await enqueueDelivery(db, { groupId: group.id, kind: 'email', target: 'alert-email', now: at.now, payload: emailPayload(`${reason}, paged ${paged}`, latest) });
    }
    // Say only what was queued: with no Slack alerts channel nothing reaches the people named, and
    // with no email either nobody is paged at all (the demo: no Slack, no rotation, no approvers).
    const viaSlack = group.slackChannel ? (targets.channelWide ? 'the whole alerts channel' : fresh.join(', ')) : null;
    const via = [viaSlack ? `${viaSlack} on Slack` : null, emailed ? 'ALERT_EMAIL_TO by email' : null].filter((v): v is string => v !== null);
    const fields = { groupId: group.id, users: viaSlack ? fresh : [], email: emailed, rung: at.label };
    if (via.length === 0) this.#log.info(fields, `nobody paged for ${headline(group)}: no Slack alerts channel and no email configured (${at.label})`);
    else this.#log.info(fields, `paged ${via.join(' and ')} for ${headline(group)}`);
  }

  /** Says which pages were given up undelivered: in the thread (seen once Slack is back) and by email when the policy mails. */
  async #sayUndelivered(db: Db, group: AlertGroup, pages: UndeliveredPage[], at: { now: Date; email: boolean }): Promise<void> {
    for (const page of pages) {
      await enqueueThreadNote(db, {
        groupId: group.id, channel: group.slackChannel, now: at.now, relevance: 'until_ack',
        text: `:x: The page to ${who(page.target)} (${page.rung}) could NOT be delivered before its deadline${page.lastError ? ` (last error: ${page.lastError})` : ''}; it is given up and the escalation goes on.`,
      });
    }
    this.#log.error({ groupId: group.id, pages }, 'pages not delivered before their step\'s deadline: given up; the escalation goes on');
    if (at.email && emailConfigured(this.deps.config)) {
      const which = pages.map((p) => `${p.rung} to ${p.target}`).join('; ');
      await enqueueDelivery(db, { groupId: group.id, kind: 'email', target: 'alert-email', now: at.now, payload: emailPayload(`page(s) could not be delivered on Slack (${which}); escalating`) });
    }
  }

  async #update(db: Db, id: number, input: { status: 'stopped' | 'exhausted'; stoppedReason: string; now: Date }): Promise<void> {
    await endEscalation(db, { id, ...input });
  }
}
