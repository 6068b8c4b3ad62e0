// A stop signal while the Slack part starts and Slack's API does not answer its auth.test: the start
// ends after STARTING_STOP_WAIT_MS and leaves that part behind (started-parts.ts). When Slack answers
// later, the part's start used to go on as if the bot ran: "Slack: listening on POST /slack/events"
// (the server was closed), its route and its prune job registered, all after "stopped". It serves
// nothing once the stop came, and says nothing of listening. Nor did auth.test's late answer itself
// say the bot was connected ("Slack: connected as …") or starting without Slack ("auth.test failed")
// after "stopped": it is logged at debug only.
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Feature } from '../../src/app/feature.js';
import { startBot } from '../../src/app/runtime.js';
import { StartStoppedError } from '../../src/app/wait-for-database.js';
import { testConfig } from '../../src/config/env.js';
import { createSlackFeature } from '../../src/slack/feature.js';
import { usePostgresTestDb } from '../support/db.js';

const database = usePostgresTestDb();

// Slack's API on loopback: auth.test is held until the test answers it, with `body`.
const held: ServerResponse[] = [];
let asked!: () => void;
let authTestAsked!: Promise<void>;
const expectAuthTest = () => (authTestAsked = new Promise<void>((resolve) => (asked = resolve)));
const api = createServer((req, res) => {
  held.push(res);
  if (req.url?.includes('auth.test')) asked();
});
const CONNECTED = { ok: true, user_id: 'UBOT', bot_id: 'BBOT', team_id: 'T1', user: 'ctb', team: 'test' };
const answer = (body: Record<string, unknown> = CONNECTED) => {
  for (const res of held.splice(0)) {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(body));
  }
};
beforeAll(() => new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve)));
afterAll(async () => {
  answer();
  api.closeAllConnections();
  await new Promise((resolve) => api.close(resolve));
});

describe('the Slack part left behind by a stop during its start', () => {
  it.each([
    { answered: 'connected', body: CONNECTED, debugLine: 'Slack: auth.test answered after the stop' },
    { answered: 'failed', body: { ok: false, error: 'fatal_error' }, debugLine: 'Slack: auth.test failed after the stop' },
  ])('once auth.test answers ($answered), it does not serve, schedule or say it listens or connected', { timeout: 60_000 }, async ({ body, debugLine }) => {
    expectAuthTest();
    const lines: Array<Record<string, unknown>> = [];
    const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
    const stop = new AbortController();
    let slackStart: Promise<unknown> | undefined;
    const slack = createSlackFeature();
    const watched: Feature = { ...slack, start: (ctx, http, opts) => (slackStart = slack.start(ctx, http, opts)) as ReturnType<Feature['start']> };
    const config = testConfig({
      HOST: '127.0.0.1', SLACK_BOT_TOKEN: 'xoxb-test', SLACK_SIGNING_SECRET: 'test-signing-secret',
      SLACK_API_URL: `http://127.0.0.1:${(api.address() as AddressInfo).port}/api/`,
    });
    const starting = startBot({ config, logger, database: database(), features: [watched], role: 'all', feed: 'replay', port: 0, stop: stop.signal });
    await authTestAsked;
    stop.abort();
    const err = await starting.then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(StartStoppedError);
    expect(lines.map((l) => l.msg)).toContain('the part "slack"\'s start had not ended 5000 ms after the stop (it waits on something that has not answered): left behind, and stopped when it ends');
    const stoppedAt = lines.length;

    answer(body);
    await slackStart;

    const after = lines.slice(stoppedAt);
    const said = after.filter((l) => Number(l.level) > 20).map((l) => String(l.msg));
    expect(said.filter((msg) => /listening|Socket Mode|registered after the jobs were stopped|connected as|auth\.test failed|SLACK_BOT_TOKEN/.test(msg))).toEqual([]);
    // The late answer was read, and said only at debug (pino's level 20).
    expect(after.filter((l) => l.msg === debugLine).map((l) => l.level)).toEqual([20]);
  });
});
