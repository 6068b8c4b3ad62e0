// A bot replica's alert pipeline as a process of its own: the alerts feature started as `ctb start`
// starts it (the escalation policy stored or compared, the ticks registered), on a manual clock the
// test moves. Its log lines go to stdout as JSON. Commands on stdin, one a line, each answered
// "done <n>" once finished: `tick <ISO time>` sets the clock and runs one escalation tick;
// `stop` stops the feature and exits.
// node childScript('pager-child') <database url> <fake Slack url> <start ISO time> <env JSON>
import { createInterface } from 'node:readline';
import { buildAppContext } from '../../src/app/build-context.js';
import { alertsFeature } from '../../src/app/features/alerts.js';
import { createAlertRuntime } from '../../src/alerts/runtime.js';
import { ManualClock } from '../../src/clock.js';
import { connectPostgres } from '../../src/db/client.js';
import type { HttpServer } from '../../src/http/server.js';
import { createLogger } from '../../src/logger.js';
import { alertConfig } from './alert-fixtures.js';
import type { FakeSlack } from './fake-slack.js';

const [url, slackUrl, start, envJson] = process.argv.slice(2) as [string, string, string, string];
const clock = new ManualClock(start);
const config = alertConfig({ url: slackUrl } as FakeSlack, JSON.parse(envJson) as Record<string, string>);
const logger = createLogger({ config, stdout: false, files: false, destination: process.stdout });
const ctx = await buildAppContext({ config, clock, logger, database: connectPostgres(url, { max: 2 }) });
const running = await alertsFeature.start(ctx, {} as HttpServer, { role: 'all', feed: 'replay' });
const runtime = createAlertRuntime(ctx);
process.stdout.write('{"ready":true}\n');
for await (const line of createInterface({ input: process.stdin })) {
  const [cmd, arg] = line.trim().split(' ');
  if (cmd === 'tick') {
    clock.set(arg!);
    const n = await runtime.escalation.tick();
    process.stdout.write(`${JSON.stringify({ done: n })}\n`);
  } else if (cmd === 'stop') {
    await running?.stop();
    await ctx.close();
    process.stdout.write('{"done":0}\n');
    process.exit(0);
  }
}
