// `ctb alerts list [--limit N] | test [--severity …] | ack <group> | resolve <group> [--note …] | silence <group> <duration>`.
import { Option } from 'commander';
import { alertAckCommand, alertResolveCommand, alertSilenceCommand, type AlertActionCommandResult } from '../../../commands/alert-actions.js';
import { alertsListCommand, type AlertsListResult } from '../../../commands/alerts-list.js';
import { alertsTestCommand } from '../../../commands/alerts-test.js';
import type { AlertTestResult } from '../../alerts/test-alert.js';
import type { CliRegistration } from '../program.js';
import { runCliCommand } from '../with-context.js';

const NO_CHANNEL = 'no alert channel is configured (Slack: SLACK_BOT_TOKEN and SLACK_ALERTS_CHANNEL; email: SMTP_URL and ALERT_EMAIL_TO)';

/** What the escalation of a critical test did, as far as this run saw: a page needs a channel that delivered. */
function escalationLine(r: AlertTestResult): string {
  if (r.escalation !== 'started') return '';
  const reached = (['slack', 'email'] as const).filter((name) => r.channels[name].status === 'sent');
  const none = r.channels.slack.status === 'not_configured' && r.channels.email.status === 'not_configured';
  if (none) return `Escalation recorded, but nobody was paged: ${NO_CHANNEL}. Acknowledge it with \`ctb alerts ack ${r.groupId}\`.`;
  // The pages are direct messages the escalation sends, apart from the channels this run tried: with
  // every channel failed here, whether one went out is not something this run saw.
  if (reached.length === 0) {
    return `Escalation recorded, but no channel delivered the alert from here; the running bot's escalation pages on-call by direct message, which this run did not see: check \`ctb alerts list\`, and acknowledge with \`ctb alerts ack ${r.groupId}\`.`;
  }
  return `Escalation started and the alert reached ${reached.join(' and ')}; the running bot continues the ladder until someone presses Acknowledge (or \`ctb alerts ack ${r.groupId}\`).`;
}

/** What left this process: the test alert, on the channels that took it; never the bot's queue. */
function sentLine(r: AlertTestResult): string {
  const sent = (['slack', 'email'] as const).filter((name) => r.channels[name].status === 'sent');
  const triedFailed = (['slack', 'email'] as const).filter((name) => r.channels[name].status === 'failed' && r.channels[name].triedHere);
  if (sent.length === 0 && triedFailed.length > 0) {
    return `This process tried to send the test alert to ${triedFailed.join(' and ')} and it was not delivered (above); alerts the bot has queued are left to the bot to send.`;
  }
  if (sent.length === 0) return 'Nothing was sent from here (the test is recorded only); alerts the bot has queued are left to the bot to send.';
  return `Only this test alert was sent from here, to ${sent.join(' and ')}; alerts the bot has queued are left to the bot to send.`;
}

export function renderAlertTest(r: AlertTestResult): string {
  const line = (name: string, c: AlertTestResult['channels']['slack']) =>
    `  ${name.padEnd(6)} ${c.status === 'sent' ? 'sent' : c.status === 'not_configured' ? 'not configured' : `FAILED — ${c.error ?? 'unknown'}`}`;
  const none = r.channels.slack.status === 'not_configured' && r.channels.email.status === 'not_configured';
  return [
    `Test alert (${r.severity}) ${r.ok ? 'delivered' : none ? `NOT delivered: ${NO_CHANNEL}` : 'NOT delivered everywhere'} — group ${r.groupId}, recorded as test #${r.testId}`,
    line('slack', r.channels.slack),
    line('email', r.channels.email),
    sentLine(r),
    escalationLine(r),
  ].filter(Boolean).join('\n');
}

export function renderAlertsList(r: AlertsListResult): string {
  if (r.total === 0) return 'No open alerts.';
  const rows = r.groups.map((g) => {
    const state = g.status === 'acknowledged' ? `acked by ${g.acknowledgedBy ?? 'someone'}` : 'NOT acknowledged';
    const silenced = g.silencedUntil ? `, silenced until ${g.silencedUntil}` : '';
    return `${String(g.id).padStart(6)}  ${g.severity.padEnd(8)} ${`×${g.count}`.padEnd(6)} last ${g.lastAt}  ${g.test ? '[TEST] ' : ''}${g.title} (${state}${silenced})`;
  });
  const more = r.total > r.groups.length ? [`…and ${r.total - r.groups.length} more: ctb alerts list --limit ${Math.min(500, r.total)}`] : [];
  return [`Open alerts: ${r.total} (critical first; act with ctb alerts ack|resolve|silence <group>)`, `${'group'.padStart(6)}  severity count  last`, ...rows, ...more].join('\n');
}

const renderAction = (r: AlertActionCommandResult) =>
  `Alert group ${r.groupId} (${r.title}): ${r.status}${r.silencedUntil ? `, silenced until ${r.silencedUntil}` : ''}${r.changed ? '' : ' (no change: it already was)'}`;

export const alertsCli: CliRegistration = {
  register(program, io, setExit) {
    const alerts = program.command('alerts').description('alert pipeline: list open alerts, test the channels, acknowledge, resolve, silence');
    alerts.command('list').description('the alert groups not resolved, critical first, with their group numbers')
      .option('--limit <n>', 'how many to show (1-500)', '50')
      .option('--json', 'print JSON', false)
      .action(async (opts: { limit: string; json: boolean }) =>
        setExit(await runCliCommand(io, alertsListCommand, { limit: opts.limit }, { json: opts.json, render: renderAlertsList })));
    alerts.command('test').description('send a test alert through every configured channel and record the result (exit 1 if one failed)')
      .addOption(new Option('--severity <level>', 'severity of the test alert; critical runs the whole escalation').choices(['info', 'warning', 'critical']).default('warning'))
      .option('--json', 'print JSON', false)
      .action(async (opts: { severity: string; json: boolean }) =>
        setExit(await runCliCommand(io, alertsTestCommand, { severity: opts.severity }, { json: opts.json, render: renderAlertTest })));
    alerts.command('ack').argument('<group>', 'alert group number').option('--json', 'print JSON', false)
      .description('acknowledge: stop the escalation')
      .action(async (group: string, opts: { json: boolean }) => setExit(await runCliCommand(io, alertAckCommand, { group }, { json: opts.json, render: renderAction })));
    alerts.command('resolve').argument('<group>', 'alert group number').option('--note <text>', 'what was done').option('--json', 'print JSON', false)
      .description('resolve: close the group and its thread')
      .action(async (group: string, opts: { note?: string; json: boolean }) =>
        setExit(await runCliCommand(io, alertResolveCommand, { group, ...(opts.note ? { note: opts.note } : {}) }, { json: opts.json, render: renderAction })));
    alerts.command('silence').argument('<group>', 'alert group number').argument('<duration>', 'from 1s to 7d, such as 30m, 2h, 1h30m or 1d').option('--json', 'print JSON', false)
      .description('silence: count repeats without posting or paging, for a while')
      .action(async (group: string, duration: string, opts: { json: boolean }) =>
        setExit(await runCliCommand(io, alertSilenceCommand, { group, duration }, { json: opts.json, render: renderAction })));
  },
};
