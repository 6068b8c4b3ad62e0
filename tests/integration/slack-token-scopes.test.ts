// The bot token's granted scopes (Slack's x-oauth-scopes header, as auth.test answers it) against the
// scopes the shipped manifest asks for: the go-live audit's slack.scopes fails naming the missing ones
// and the reinstall, and the bot's start warns the same. The token never appears in what is said.
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppContext } from '../../src/app/context.js';
import { testConfig } from '../../src/config/env.js';
import { BOT_SCOPES } from '../../src/domain/slack-scopes.js';
import { createLogger } from '../../src/logger.js';
import { slackScopesCheck } from '../../src/services/audit/checks/slack-scopes.js';
import type { AuditContext } from '../../src/services/audit/types.js';
import { resolveBotIdentity } from '../../src/slack/identity.js';
import { testContext } from '../support/app-context.js';
import { createPostgresTestDb, type TestDatabase } from '../support/db.js';
import { startFakeSlack, type FakeSlack } from '../support/fake-slack.js';

const TOKEN = 'xoxb-9999-scopes-test-token-value';
let database: TestDatabase;
let slack: FakeSlack;
beforeAll(async () => {
  database = await createPostgresTestDb();
  slack = await startFakeSlack();
});
afterAll(async () => {
  await slack?.close();
  await database?.close();
});

/** auth.test as Slack answers it: the granted scopes comma-separated in x-oauth-scopes (null: no such header). */
function grant(scopes: string[] | null) {
  slack.grantedScopes = scopes;
  slack.on('auth.test', () => ({
    body: { ok: true, url: 'https://test.slack.com/', team: 'Test', user: 'ctb', team_id: 'T0TEST', user_id: 'UBOT', bot_id: 'B0' },
  }));
}

const slackEnv = () => ({ SLACK_BOT_TOKEN: TOKEN, SLACK_SIGNING_SECRET: 'sig', SLACK_API_URL: slack.url });
const auditCtx = async (env: Record<string, string>) => {
  const ctx = await testContext({ database, env });
  return Object.assign(ctx, { actor: { id: 'cli:a', source: 'cli' as const }, cwd: '.', kraken: () => undefined, memo: <T>(_k: string, f: () => Promise<T>) => f() }) as unknown as AuditContext & AppContext & { close(): Promise<void> };
};
// An install from before the manifest asked for the DM scopes.
const oldInstall = BOT_SCOPES.filter((s) => !s.startsWith('im:'));

describe('go-live audit: slack.scopes', () => {
  it('fails naming the scopes the token lacks and the reinstall, passes once every manifest scope is granted', async () => {
    const ctx = await auditCtx(slackEnv());
    grant(oldInstall);
    const missing = BOT_SCOPES.filter((s) => s.startsWith('im:'));
    const failed = await slackScopesCheck.run(ctx, { dryRun: true });
    expect(failed).toMatchObject({
      status: 'fail', value: `the bot token lacks ${missing.join(', ')} (granted: ${oldInstall.join(', ')})`,
      fix: expect.stringContaining('reinstall the app'), details: { missing },
    });
    expect(JSON.stringify(failed)).not.toContain(TOKEN);

    grant([...BOT_SCOPES, 'channels:read']);
    expect(await slackScopesCheck.run(ctx, { dryRun: true })).toMatchObject({ status: 'pass', value: `the bot token holds all ${BOT_SCOPES.length} scopes the manifest asks for`, fix: null });
    await ctx.close();
  });

  it('warns when Slack names no scopes, does not answer, or is not configured here', async () => {
    const ctx = await auditCtx(slackEnv());
    grant(null);
    expect(await slackScopesCheck.run(ctx, { dryRun: true })).toMatchObject({ status: 'warn', value: expect.stringContaining('no x-oauth-scopes header') });
    slack.on('auth.test', () => ({ body: { ok: false, error: 'invalid_auth' } }));
    expect(await slackScopesCheck.run(ctx, { dryRun: true })).toMatchObject({ status: 'warn', value: expect.stringContaining('auth.test failed: invalid_auth') });
    await ctx.close();

    const bare = await auditCtx({});
    expect(await slackScopesCheck.run(bare, { dryRun: true })).toMatchObject({ status: 'warn', value: expect.stringMatching(/^Slack is not configured in this process/) });
    await bare.close();
  });
});

describe('bot start: the token\'s scopes', () => {
  async function start(scopes: string[]) {
    grant(scopes);
    const lines: Array<Record<string, unknown>> = [];
    const config = testConfig(slackEnv());
    const sink = new Writable({
      write(chunk, _enc, cb) {
        for (const line of String(chunk).split('\n')) if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
        cb();
      },
    });
    const identity = await resolveBotIdentity(config, createLogger({ config, stdout: false, files: false, destination: sink }));
    return { identity, lines };
  }

  it('warns naming the missing scopes and the reinstall, and says nothing when all are granted', async () => {
    const old = await start(oldInstall);
    expect(old.identity.botUserId).toBe('UBOT');
    const warned = old.lines.filter((l) => l.level === 40);
    expect(warned).toHaveLength(1);
    expect(warned[0]).toMatchObject({ missingScopes: ['im:history'], msg: expect.stringMatching(/^Slack: The Slack app's token lacks im:history: reinstall the app/) });
    expect(JSON.stringify(old.lines)).not.toContain(TOKEN);

    const current = await start([...BOT_SCOPES]);
    expect(current.lines.filter((l) => l.level === 40)).toEqual([]);
  });
});
