// The alerts part of the running bot: a delivery tick and an escalation tick, every second, on
// every replica (FOR UPDATE SKIP LOCKED makes that safe: one replica sends each message, pages once),
// and each minute the check that whoever a handover put on call can still be paged. At start, the
// escalation policy every replica pages by is stored once (the first process's configuration).
import type { Feature } from '../feature.js';
import { createAlertRuntime } from '../../alerts/runtime.js';
import { databaseOutage } from '../../db/connect-errors.js';
import { emailRecipients } from '../../email/smtp.js';
import { badgeKnownNow, readBadgeState } from '../../services/badge-state.js';

/**
 * How often the delivery tick reads the badge state (bot_state, the engine lease) while the database
 * answers, so an alert raised once it stops answering carries the state of at most this long ago.
 */
export const KNOWN_STATE_EVERY_MS = 30_000;

export const alertsFeature: Feature = {
  name: 'alerts',
  roles: ['all', 'web', 'worker'],
  async start(ctx) {
    const runtime = createAlertRuntime(ctx);
    const sink = ctx.alerts as { flushBuffered?: () => Promise<number> };
    // Failures are logged flagged alertPipeline (not through the job registry's error line), so the
    // log-line alert source does not raise an alert about the alert pipeline, about itself, forever.
    const log = ctx.logger.child({ alertPipeline: true });
    if (ctx.config.SMTP_URL !== undefined && emailRecipients(ctx.config).length === 0) {
      log.warn('SMTP_URL is set but ALERT_EMAIL_TO is empty: alert email is OFF (critical alerts and escalations go to Slack only). Set ALERT_EMAIL_TO=ops@example.com,… to turn it on.');
    }
    const guarded = (name: string, fn: () => Promise<unknown>) => async () => {
      try {
        await fn();
      } catch (err) {
        log.error({ err, job: name }, `${name} tick failed; retried next tick`);
      }
    };
    // The escalation policy every replica pages by is the stored one: stored from this process's
    // configuration if none is yet, and a warning when this process's ESCALATION_* differ from it.
    // Nothing tries this again later: a database gone away here is the start's to wait for (it starts
    // this part again, wait-for-database.ts), with nothing of this start left running.
    try {
      await runtime.escalation.adoptPolicies();
    } catch (err) {
      if (databaseOutage(err, ctx.config.DATABASE_URL)) {
        await runtime.close();
        throw err;
      }
      log.error({ err, job: 'alert-escalation-policy' }, 'could not store or compare the escalation policy at start: not tried again until the next start (each page still reads the stored policy, and stores this configuration where none is)');
    }
    // The state an alert raised without the database shows (services/badge-state.ts badgeKnownNow).
    let stateReadAt = Number.NEGATIVE_INFINITY;
    let stateKnown = false;
    ctx.jobs.register({
      name: 'alert-delivery',
      schedule: '* * * * * *',
      trades: false,
      run: guarded('alert-delivery', async () => {
        const left = await sink.flushBuffered?.();
        if (!left && Date.now() - stateReadAt >= KNOWN_STATE_EVERY_MS) {
          stateReadAt = Date.now();
          await readBadgeState(ctx);
          if (!stateKnown && badgeKnownNow(ctx.db, false).readAt !== undefined) {
            stateKnown = true;
            ctx.logger.info('bot state read: an alert raised while the database is away shows this state');
          }
        }
        await runtime.delivery.tick();
      }),
    });
    ctx.jobs.register({ name: 'alert-escalation', schedule: '* * * * * *', trades: false, run: guarded('alert-escalation', () => runtime.escalation.tick()) });
    // Handovers fall on whole minutes (a shift's "mon 09:00", an override's start): checked each minute.
    ctx.jobs.register({ name: 'oncall-handover', schedule: '5 * * * * *', trades: false, run: guarded('oncall-handover', () => runtime.handover.tick()) });
    return { stop: async () => runtime.close() };
  },
};
