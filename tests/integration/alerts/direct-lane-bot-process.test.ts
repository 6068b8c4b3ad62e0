// The operator rehearsal's case, across processes: a running bot (`ctb start`, a child process) whose
// PostgreSQL is cut (a TCP proxy taken down) is killed through POST /kill. The kill's critical alert
// cannot be stored: it reaches the alerts channel (the fake Slack) at once, marked as sent without the
// database, with the state the bot was in as it raised it (halted by the kill). When the database
// answers, the alert is stored once and that same message becomes its alert (updated, not posted again).
// (Whether the kill's write is refused or hangs depends on the pool's connections when the cut came:
// both must page at once.)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { alertEscalations, alertEvents, alertGroups } from '../../../src/db/schema/index.js';
import { outageMarkOf } from '../../../src/domain/alert-outage.js';
import { createPostgresTestDb, type TestDatabase } from '../../support/db.js';
import { startBotProcess, waitUntil, type BotProcess } from '../../support/bot-process.js';
import { startFakeSlack, type FakeSlack } from '../../support/fake-slack.js';
import { freePort } from '../../support/free-port.js';
import { startStallProxy, type StallProxy } from '../../support/stall-proxy.js';

const TOKEN = 'kill-token-0123456789abcdef-XYZ';
const CHANNEL = 'C0ALERTS';

let database: TestDatabase;
let proxy: StallProxy;
let slack: FakeSlack;
let bot: BotProcess | undefined;
let dir: string;
beforeAll(async () => {
  database = await createPostgresTestDb();
  proxy = await startStallProxy();
  slack = await startFakeSlack();
  dir = mkdtempSync(join(tmpdir(), 'ctb-direct-lane-'));
});
afterAll(async () => {
  if (bot) {
    bot.kill();
    const ended = await Promise.race([bot.exited.then(() => true, () => true), new Promise<false>((r) => setTimeout(() => r(false), 15_000))]);
    if (!ended) bot.kill('SIGKILL');
  }
  await slack?.close();
  await proxy?.close();
  await database?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('a running bot killed while its database is cut', () => {
  it('posts the kill’s critical alert to the alerts channel at once, and makes that message the alert once the database answers', { timeout: 180_000 }, async () => {
    const port = await freePort();
    bot = startBotProcess(['start'], {
      PATH: process.env.PATH ?? '', HOME: dir, DATABASE_URL: proxy.urlFor(database.url), MARKET_FEED: 'replay', PORT: String(port), HOST: '127.0.0.1',
      DATA_DIR: join(dir, 'data'), LOG_DIR: join(dir, 'logs'), LOG_LEVEL: 'info',
      SLACK_BOT_TOKEN: 'xoxb-0000-test-not-a-real-token', SLACK_SIGNING_SECRET: 'test-signing-secret', SLACK_API_URL: slack.url,
      SLACK_ALERTS_CHANNEL: CHANNEL, SLACK_RETRY_PAUSE: '10ms', KILL_HTTP_TOKEN: TOKEN, KILL_DB_TIMEOUT: '2s', KILL_CONFIRM_WAIT: '1s',
    }, dir);
    const url = `http://127.0.0.1:${port}`;
    const healthy = () => waitUntil(async () => (await fetch(`${url}/healthz`).then((r) => r.status).catch(() => 0)) === 200, 90_000, () => bot!.output().slice(-3000));
    await healthy();
    // Its delivery tick has read the state (PAPER) while the database answered: it says so once. Then
    // /healthz again: the state can be read before the server answers every route.
    await bot.waitFor(/bot state read: an alert raised while the database is away shows this state/, 60_000);
    // And its start is over (the banner): a database cut while the bot's parts still start ends the
    // start (the bot exits, its HTTP connections closed), which is not this test's subject.
    await bot.waitFor(/"banner":\{/, 60_000);
    await healthy();

    proxy.set('down');
    const killed = await fetch(`${url}/kill`, {
      method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ reason: 'rehearsal: database away' }),
    });
    expect(killed.status).toBeLessThan(500);
    const kills = () => slack.callsTo('chat.postMessage').filter((c) => c.body.channel === CHANNEL && !c.body.thread_ts && String(c.body.text).includes('Kill switch'));
    await waitUntil(() => kills().length > 0, 30_000, () => bot!.output().slice(-3000));
    const direct = kills()[0]!;
    expect(String(direct.body.text)).toMatch(/^\[PAPER · HALTED\] :red_circle: \[CRITICAL\] Kill switch/);
    expect(String(direct.body.text)).toContain('database unreachable: not in the outbox yet, no escalation until it is back');

    proxy.set('forward');
    const group = async () => (await database.db.select().from(alertGroups)).find((g) => g.title.startsWith('Kill switch'));
    await waitUntil(async () => (await group())?.slackTs != null, 60_000, () => bot!.output().slice(-3000));
    const stored = (await group())!;
    await waitUntil(() => slack.callsTo('chat.update').some((u) => u.body.ts === stored.slackTs), 30_000, () => bot!.output().slice(-3000));
    const update = slack.callsTo('chat.update').find((u) => u.body.ts === stored.slackTs)!;
    // Refused, it was stored late and says so; a write that hung past KILL_DB_TIMEOUT instead (the pool
    // waiting on a dead connection) went through once the database answered: stored in time, not late.
    const [event] = await database.db.select().from(alertEvents).where(eq(alertEvents.groupId, stored.id));
    expect(JSON.stringify(update.body.blocks).includes('LATE: raised at')).toBe(outageMarkOf(event!.details) !== undefined);
    expect(JSON.stringify(update.body.blocks)).toContain('Acknowledge');
    // Raised while halted by this kill: its badge says so, as it was then.
    expect(String(update.body.text)).toMatch(/^\[PAPER · HALTED\] /);
    expect(kills()).toHaveLength(1); // not posted to the channel a second time
    expect((await database.db.select().from(alertEscalations)).some((e) => e.groupId === stored.id)).toBe(true);
  });
});
