// Owns re-checking, each time a handover (a new shift, or an override starting) puts someone on
// call, that Slack still has them as an active person (users.info, through the on-call port): a
// member deactivated after joining the rotation would otherwise hold the pager for a week while
// every page to them fails. When Slack says they cannot be paged, a warning alert is raised, which
// the outbox posts in the alerts channel (once per handover: a live group with the handover's
// fingerprint means another replica, or this one before a restart, already raised it). When Slack
// does not answer, it is asked again on the next run; the outage is logged once as it starts and
// once as it ends (with how many runs it lasted), not every minute in between.
import type { Clock } from '../clock.js';
import type { Db } from '../db/client.js';
import { liveAlertGroupId } from '../db/queries/alert-groups.js';
import type { Logger } from '../logger.js';
import type { UserDirectory } from '../services/oncall/user-directory.js';
import { whoIsOnCall } from '../services/oncall/who-is-on-call.js';
import type { AlertSink } from './types.js';

export interface HandoverCheckDeps {
  db: Db;
  clock: Clock;
  logger: Logger;
  /** Slack's users.info; null without Slack (then nobody is paged by DM, and there is nothing to check). */
  people: UserDirectory | null | undefined;
  alerts: AlertSink;
}

export type HandoverCheckOutcome = 'nobody' | 'checked_already' | 'reachable' | 'unreachable' | 'unchecked';

export class HandoverCheck {
  readonly #log: Logger;
  /** The handover last settled here (checked, or Slack not configured): only saves asking Slack every run. */
  #settled: string | null = null;
  /** Slack not answering the check: since when and how many runs (logged at its start and its end only). */
  #outage: { since: Date; tries: number } | null = null;

  constructor(private readonly deps: HandoverCheckDeps) {
    this.#log = deps.logger.child({ component: 'oncall-handover' });
  }

  async tick(): Promise<HandoverCheckOutcome> {
    const now = this.deps.clock.now();
    const oncall = await whoIsOnCall(this.deps.db);
    const since = oncall.override?.startsAt ?? oncall.shift?.startsAt;
    if (!oncall.primary || !since) return 'nobody';
    const handover = `${oncall.primary}@${since.toISOString()}`;
    if (this.#settled === handover) return 'checked_already';
    if (!this.deps.people) {
      this.#settled = handover;
      return 'unchecked';
    }
    const found = await this.deps.people.lookup(oncall.primary);
    if (found.kind === 'unknown') {
      this.#unanswered(oncall.primary, since, found.why, now);
      return 'unchecked';
    }
    if (this.#outage) {
      this.#log.info({ userId: oncall.primary, tries: this.#outage.tries, since: this.#outage.since.toISOString() },
        `Slack answered the check of ${oncall.primary} again after ${this.#outage.tries} failed tries since ${this.#outage.since.toISOString()}`);
      this.#outage = null;
    }
    this.#settled = handover;
    if (found.kind === 'person') return 'reachable';
    const fingerprint = `oncall-unreachable:${handover}`;
    if ((await liveAlertGroupId(this.deps.db, fingerprint)) === null) {
      const via = oncall.via === 'override' ? 'by an override' : 'by the rotation';
      await this.deps.alerts.raise({
        source: 'oncall',
        severity: 'warning',
        fingerprint,
        title: `${oncall.primary} is on call since ${since.toISOString()} (${via}) but cannot be paged: Slack says ${found.why}`,
        details: {
          onCall: oncall.primary,
          since: since.toISOString(),
          pages: 'a page to them fails at once and the escalation goes on to the next step',
          fix: 'take them off with `ctb oncall set --members …`, or cover the shift with `ctb oncall override <member> <duration>`',
        },
      });
    }
    this.#log.warn({ userId: oncall.primary, why: found.why }, `${oncall.primary} is on call but Slack says ${found.why}: pages to them cannot be delivered`);
    return 'unreachable';
  }

  #unanswered(userId: string, since: Date, why: string, now: Date): void {
    if (this.#outage) {
      this.#outage.tries += 1;
      this.#log.debug({ userId, error: why, tries: this.#outage.tries }, 'Slack still does not answer the on-call check');
      return;
    }
    this.#outage = { since: now, tries: 1 };
    this.#log.warn({ userId, error: why },
      `could not check with Slack that ${userId}, on call since ${since.toISOString()}, can be paged (${why}); asking again every run, quietly until Slack answers`);
  }
}
