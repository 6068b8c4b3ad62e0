// The process's one Slack client hands 429s back as errors (the alert queue closes its lane for
// Retry-After); posters without a queue wait them out, a bounded number of times, and nothing else.
import { ErrorCode } from '@slack/web-api';
import { describe, expect, it } from 'vitest';
import { testConfig } from '../../../src/config/env.js';
import { rateLimitSeconds, slackWebClient, waitOutRateLimits } from '../../../src/slack/web-client.js';
import { startFakeSlack } from '../../support/fake-slack.js';

const limited = (retryAfter: number) => Object.assign(new Error('rate limited'), { code: ErrorCode.RateLimitedError, retryAfter });

describe('the Slack Web API client', () => {
  it('is one client per process for one workspace and URL', () => {
    const config = testConfig({ SLACK_BOT_TOKEN: 'xoxb-0000-test-not-a-real-token', SLACK_SIGNING_SECRET: 's', SLACK_API_URL: 'http://127.0.0.1:9/api/' });
    expect(slackWebClient(config)).toBe(slackWebClient(testConfig({ SLACK_BOT_TOKEN: 'xoxb-0000-test-not-a-real-token', SLACK_SIGNING_SECRET: 's', SLACK_API_URL: 'http://127.0.0.1:9/api/' })));
    expect(slackWebClient(config)).not.toBe(slackWebClient(testConfig({ SLACK_BOT_TOKEN: 'xoxb-0000-test-not-a-real-token', SLACK_SIGNING_SECRET: 's', SLACK_API_URL: 'http://127.0.0.1:8/api/' })));
  });

  it('sends a failed call again twice, after SLACK_RETRY_PAUSE and twice that (200 ms as shipped)', async () => {
    expect(testConfig({}).SLACK_RETRY_PAUSE).toBe(200);
    const slack = await startFakeSlack();
    try {
      slack.on('chat.postMessage', () => ({ status: 503, body: { ok: false, error: 'service_unavailable' } }));
      const config = testConfig({ SLACK_BOT_TOKEN: 'xoxb-0000-test-not-a-real-token', SLACK_SIGNING_SECRET: 's', SLACK_API_URL: slack.url, SLACK_RETRY_PAUSE: '450ms' });
      await expect(slackWebClient(config).chat.postMessage({ channel: 'C1', text: 'x' })).rejects.toThrow();
      const at = slack.callsTo('chat.postMessage').map((c) => c.at);
      expect(at).toHaveLength(3);
      expect(at[1]! - at[0]!).toBeGreaterThanOrEqual(450);
      expect(at[2]! - at[1]!).toBeGreaterThanOrEqual(900);
    } finally {
      await slack.close();
    }
  });

  it('waits out a rate limit for as long as Slack asks, then sends', async () => {
    const slept: number[] = [];
    let calls = 0;
    const result = await waitOutRateLimits(async () => {
      calls += 1;
      if (calls < 3) throw limited(calls);
      return 'sent';
    }, { sleep: async (ms) => void slept.push(ms) });
    expect(result).toBe('sent');
    expect(slept).toEqual([1_000, 2_000]);
  });

  it('gives up after two waits, and never retries another failure', async () => {
    const slept: number[] = [];
    await expect(waitOutRateLimits(async () => { throw limited(1); }, { sleep: async (ms) => void slept.push(ms) })).rejects.toThrow('rate limited');
    expect(slept).toEqual([1_000, 1_000]);
    let calls = 0;
    await expect(waitOutRateLimits(async () => { calls += 1; throw new Error('channel_not_found'); })).rejects.toThrow('channel_not_found');
    expect(calls).toBe(1);
    expect(rateLimitSeconds(new Error('x'))).toBeUndefined();
  });
});
