// The alert delivery worker as a process of its own, for tests that kill it mid-send (SIGKILL: no
// cleanup, no rollback sent, exactly a crash). It ticks the outbox over and over on a manual clock
// that moves one second a tick, from the given start, against the given database and fake Slack.
// Built before the run (tests/support/build-children.ts); a test starts it with
// node childScript('alert-worker-child') <database url> <fake Slack url> <start ISO time> <approvers> [<SMTP url>]
// (with an SMTP url it mails the alert email to oncall@example.com from ctb@example.com).
import { buildAppContext } from '../../src/app/build-context.js';
import { createAlertRuntime } from '../../src/alerts/runtime.js';
import { ManualClock } from '../../src/clock.js';
import { connectPostgres } from '../../src/db/client.js';
import { silentLogger } from '../../src/logger.js';
import { alertConfig } from './alert-fixtures.js';
import type { FakeSlack } from './fake-slack.js';

const [url, slackUrl, start, approvers, smtpUrl] = process.argv.slice(2) as [string, string, string, string, string | undefined];
const email = smtpUrl ? { SMTP_URL: smtpUrl, ALERT_EMAIL_TO: 'oncall@example.com', ALERT_EMAIL_FROM: 'ctb <ctb@example.com>' } : {};
const clock = new ManualClock(start);
const ctx = await buildAppContext({
  config: alertConfig({ url: slackUrl } as FakeSlack, { SLACK_APPROVERS: approvers, ...email }),
  clock, logger: silentLogger(), database: connectPostgres(url, { max: 2 }),
});
const runtime = createAlertRuntime(ctx);
process.stdout.write('ready\n');
for (;;) {
  clock.advance(1_000);
  await runtime.delivery.tick();
  // Pacing only: the test waits for what Slack receives, not for time.
  await new Promise((resolve) => setTimeout(resolve, 10));
}
