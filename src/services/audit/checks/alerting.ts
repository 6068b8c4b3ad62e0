// Checklist 3: alerts reach people. Passes when an alert channel is configured and the latest
// `ctb alerts test` delivered through every channel configured now, within ALERT_TEST_MAX_AGE (the
// checklist's "periodically test the alert channel"; an older test warns).
import { formatDuration } from '../../../config/duration.js';
import { latestAlertTest } from '../../../db/queries/alert-tests.js';
import { judgedAlertChannels } from '../sources/engine-operations.js';
import { defineCheck } from '../types.js';

export const alertingCheck = defineCheck({
  id: 'alerting.channels',
  title: 'Alert channels configured and last test delivered',
  checklistSection: 3,
  async run(ctx) {
    // The engine's process's channels when it recorded them: a shell's SMTP_URL sends none of its alerts.
    const judged = judgedAlertChannels(ctx);
    const slack = judged.value.slack !== null;
    const email = judged.value.email !== null;
    const whose = judged.source === 'engine' ? ` (alert channels of ${judged.from})` : '';
    const configured = [slack ? 'slack' : null, email ? 'email' : null].filter((c): c is 'slack' | 'email' => c !== null);
    if (configured.length === 0) {
      return {
        status: 'fail', value: `no alert channel configured${whose}`, details: { configured: [], from: judged.from },
        fix: 'Set SLACK_BOT_TOKEN and SLACK_ALERTS_CHANNEL (and SMTP_URL + ALERT_EMAIL_TO for email), then run `ctb alerts test`.',
      };
    }
    const test = await latestAlertTest(ctx.db);
    const details = { configured, from: judged.from, lastTestId: test?.id ?? null, lastTestAt: test?.at.toISOString() ?? null, channels: test?.channels ?? null };
    if (!test) {
      return { status: 'fail', value: `${configured.join(' + ')} configured, never tested${whose}`, fix: 'Run `ctb alerts test` and check the message arrived.', details };
    }
    const failed = configured.filter((c) => test.channels[c]?.status === 'failed');
    const untested = configured.filter((c) => !test.channels[c] || test.channels[c]!.status === 'not_configured');
    const when = `${test.at.toISOString().slice(0, 16).replace('T', ' ')} UTC by ${test.actor}`;
    if (failed.length > 0) {
      const why = failed.map((c) => `${c}: ${test.channels[c]?.error ?? 'failed'}`).join('; ');
      return { status: 'fail', value: `last test (${when}) failed — ${why}${whose}`, fix: 'Fix the channel, then run `ctb alerts test` again.', details };
    }
    if (untested.length > 0) {
      return { status: 'fail', value: `${untested.join(' + ')} configured since the last test (${when})${whose}`, fix: 'Run `ctb alerts test` so every channel is proven.', details };
    }
    const age = ctx.clock.now().getTime() - test.at.getTime();
    if (age > ctx.config.ALERT_TEST_MAX_AGE) {
      return {
        status: 'warn', value: `last test (${when}) is older than ${formatDuration(ctx.config.ALERT_TEST_MAX_AGE)} (ALERT_TEST_MAX_AGE)${whose}`,
        fix: 'Run `ctb alerts test` again: the alert path is proven only as recently as its last test.', details,
      };
    }
    if (!email) {
      return { status: 'warn', value: `Slack delivered in the last test (${when}); email not configured${whose}`, fix: 'Set SMTP_URL and ALERT_EMAIL_TO so critical alerts also go by email, then `ctb alerts test`.', details };
    }
    return { status: 'pass', value: `${configured.join(' + ')} delivered in the last test (${when})${whose}`, fix: null, details };
  },
});
