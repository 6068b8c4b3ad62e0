// A replica's expiry sweep as a process of its own, for the test of two replicas announcing the
// requests they closed on one database (tests/integration/mode/announce-retry.test.ts). Says "ready"
// once connected, waits for a line on stdin (so the replicas start together), then sweeps (the
// closing and its announcement, through the real Slack notifier) until every closing's announcement
// is recorded delivered or failed, says "done" and exits:
//   node childScript('announce-child') <database url> <fake Slack url> <ops channel> <backoff ms>
import { createInterface } from 'node:readline';
import { logAlertSink } from '../../src/alerts/types.js';
import { defaultLiveSwitchPorts } from '../../src/app/live-switch-ports.js';
import { connectPostgres } from '../../src/db/client.js';
import { silentLogger } from '../../src/logger.js';
import { ANNOUNCE_CLAIM_STALE_MS } from '../../src/services/mode/announce-pending.js';
import { expireOverdueRequests } from '../../src/services/mode/expire-requests.js';
import { slackNotifier } from '../../src/slack/notifier.js';
import { alertConfig } from './alert-fixtures.js';
import type { FakeSlack } from './fake-slack.js';
import { sql } from 'drizzle-orm';

const [url, slackUrl, opsChannel, backoff] = process.argv.slice(2) as [string, string, string, string];
const config = alertConfig({ url: slackUrl } as FakeSlack, { SLACK_OPS_CHANNEL: opsChannel });
const database = connectPostgres(url, { max: 2 });
const logger = silentLogger();
const ports = defaultLiveSwitchPorts(config, slackNotifier({ config, logger }), database.db);
const ctx = {
  db: database.db, logger, alerts: logAlertSink(logger),
  announceRetry: { claimStaleMs: ANNOUNCE_CLAIM_STALE_MS, backoffMs: () => Number(backoff) },
};
const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
process.stdout.write('ready\n');
await lines.next();

/** Closings whose announcement is still open: pending, neither delivered nor failed for good. */
async function open(): Promise<number> {
  const rows = await database.db.execute(sql`select count(*)::int as n from mode_change_events c where c.kind in ('expired', 'failed')
    and c.details->>'announce' = 'pending'
    and not exists (select 1 from mode_change_events e where e.request_id = c.request_id and e.kind in ('announced', 'announce_failed'))`);
  return Number((rows as unknown as Array<{ n: number }>)[0]?.n ?? 0);
}

const until = Date.now() + 30_000;
let left = 0;
do {
  await expireOverdueRequests(ctx, ports);
  left = await open();
  // Pacing only: the loop ends on what the database records.
  if (left > 0) await new Promise((resolve) => setTimeout(resolve, 20));
} while (left > 0 && Date.now() < until);
await database.close();
process.stdout.write(left === 0 ? 'done\n' : `gave up with ${left} announcement(s) open\n`);
process.exit(0);
