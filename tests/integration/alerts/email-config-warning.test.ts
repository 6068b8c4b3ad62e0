// The alert pipeline says at start when email is half configured, instead of starting with it off in silence.
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { buildAppContext } from '../../../src/app/build-context.js';
import { alertsFeature } from '../../../src/app/features/alerts.js';
import type { HttpServer } from '../../../src/http/server.js';
import { ManualClock } from '../../../src/clock.js';
import { ConfigError, testConfig } from '../../../src/config/env.js';
import { createLogger } from '../../../src/logger.js';
import { usePostgresTestDb } from '../../support/db.js';

const database = usePostgresTestDb();

async function startLines(env: Record<string, string>): Promise<string[]> {
  const lines: Array<{ msg: string; level: number }> = [];
  const config = testConfig(env);
  const logger = createLogger({ config, stdout: false, files: false, destination: new Writable({ write(chunk, _enc, done) { lines.push(JSON.parse(String(chunk))); done(); } }) });
  const ctx = await buildAppContext({ config, clock: new ManualClock('2026-01-05T12:00:00Z'), logger, database: database() });
  const running = await alertsFeature.start(ctx, {} as HttpServer, { role: 'all', feed: 'replay' });
  await running?.stop();
  await ctx.close();
  return lines.filter((l) => l.level === 40).map((l) => l.msg);
}

describe('email alert configuration', () => {
  it('warns at start when SMTP_URL is set but ALERT_EMAIL_TO is empty', async () => {
    expect(await startLines({ SMTP_URL: 'smtp://127.0.0.1:2525' })).toEqual([expect.stringMatching(/SMTP_URL is set but ALERT_EMAIL_TO is empty: alert email is OFF/)]);
    expect(await startLines({ SMTP_URL: 'smtp://127.0.0.1:2525', ALERT_EMAIL_TO: 'ops@example.com' })).toEqual([]);
  });

  it('refuses an ALERT_EMAIL_TO that is not email addresses, naming what is expected', () => {
    expect(() => testConfig({ ALERT_EMAIL_TO: 'not-an-email' })).toThrow(ConfigError);
    expect(() => testConfig({ ALERT_EMAIL_TO: 'ops@example.com, not-an-email' })).toThrow(/ALERT_EMAIL_TO: expected comma-separated email addresses such as ops@example.com,oncall@example.com, got "not-an-email"/);
    expect(testConfig({ ALERT_EMAIL_TO: 'ops@example.com, oncall+ctb@example.co.uk' }).ALERT_EMAIL_TO).toBe('ops@example.com, oncall+ctb@example.co.uk');
  });
});
