// A send Slack did not answer is looked for (conversations.history, by its metadata) before it is sent
// again. An app installed before the manifest asked for channels:history cannot look: Slack answers
// missing_scope. The message then goes again (at worst twice), and the log says so — a warning naming
// the scope to add, once, then info lines — never a silent second post.
import nock from 'nock';
import { Writable } from 'node:stream';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/client.js';
import { createLogger } from '../../src/logger.js';
import { slackNotifier } from '../../src/slack/notifier.js';
import { ALERTS_CHANNEL, alertConfig } from '../support/alert-fixtures.js';
import { startFakeSlack, type FakeSlack } from '../support/fake-slack.js';

let slack: FakeSlack;
beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
});
afterAll(() => {
  nock.enableNetConnect();
});
beforeEach(async () => {
  slack = await startFakeSlack();
});
afterEach(async () => {
  await slack.close();
});

describe('a history lookup Slack refuses for a missing scope', () => {
  it('sends the direct alert again, warning once naming the scope to add, then info lines', async () => {
    const config = alertConfig(slack, { SLACK_RETRY_PAUSE: '10ms' });
    const lines: Array<Record<string, unknown>> = [];
    const destination = new Writable({
      write(chunk, _enc, cb) {
        for (const line of String(chunk).split('\n')) if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
        cb();
      },
    });
    const notifier = slackNotifier({ config, logger: createLogger({ config, stdout: false, files: false, destination }) });
    slack.on('conversations.history', () => ({ body: { ok: false, error: 'missing_scope', needed: 'channels:history', provided: 'chat:write,im:history' } }));
    const direct = (directId: string) => notifier.notify({} as Db, {
      kind: 'alert_direct', channel: ALERTS_CHANNEL, raisedAt: new Date('2026-01-05T12:00:00Z'), process: 'host:1:all', state: null, dropped: 0,
      cap: '10 every 10 minutes from one process', directId, checkSent: true,
      alert: { source: 'kill', severity: 'critical', title: 'kill saved in DATA_DIR', fingerprint: `kill-${directId}`, details: {}, test: false },
    });
    await direct('host:1:all:1');
    await direct('host:1:all:2');

    expect(slack.callsTo('conversations.history')).toHaveLength(2);
    expect(slack.callsTo('chat.postMessage')).toHaveLength(2); // each sent again: Slack would not say whether it held it
    const said = lines.filter((l) => String(l.msg).includes('lacks channels:history'));
    expect(said.map((l) => l.level)).toEqual([40, 30]); // a warning once, then info
    expect(said[0]!.msg).toBe('could not check whether a direct alert message that got no answer reached Slack: the Slack app\'s token lacks '
      + 'channels:history. Add channels:history to the app (slack/manifest.yaml asks for it) and reinstall it to the workspace; until then '
      + 'such a message is sent again and may arrive twice');
    expect(said[0]).toMatchObject({ needed: 'channels:history', directId: 'host:1:all:1' });
  });
});
