import { validate as isCronExpression } from 'node-cron';
import { describe, expect, it } from 'vitest';
import { ConfigError, testConfig } from '../../src/config/env.js';

const problems = (env: Record<string, string>): string[] => {
  try {
    testConfig(env);
    return [];
  } catch (err) {
    return (err as ConfigError).problems;
  }
};

describe('summary schedule configuration', () => {
  it('defaults to 08:00 daily and Monday 08:00 weekly, in UTC', () => {
    const c = testConfig();
    expect([c.SCHEDULE_TZ, c.DAILY_SUMMARY_CRON, c.WEEKLY_SUMMARY_CRON]).toEqual(['UTC', '0 8 * * *', '0 8 * * 1']);
  });

  it('the defaults, which are not re-checked at each start, are cron expressions node-cron accepts', () => {
    const c = testConfig();
    expect([isCronExpression(c.DAILY_SUMMARY_CRON), isCronExpression(c.WEEKLY_SUMMARY_CRON)]).toEqual([true, true]);
    expect(new Intl.DateTimeFormat('en-US', { timeZone: c.SCHEDULE_TZ }).resolvedOptions().timeZone).toBe('UTC');
  });

  it('accepts an IANA time zone and custom cron expressions', () => {
    const c = testConfig({ SCHEDULE_TZ: 'America/New_York', DAILY_SUMMARY_CRON: '30 17 * * 1-5', WEEKLY_SUMMARY_CRON: '0 9 * * 5' });
    expect([c.SCHEDULE_TZ, c.DAILY_SUMMARY_CRON, c.WEEKLY_SUMMARY_CRON]).toEqual(['America/New_York', '30 17 * * 1-5', '0 9 * * 5']);
  });

  it('names a bad time zone and a bad cron expression, with what is expected', () => {
    expect(problems({ SCHEDULE_TZ: 'Mars/Olympus', DAILY_SUMMARY_CRON: 'every morning' })).toEqual([
      'SCHEDULE_TZ: expected an IANA time zone such as UTC or Europe/Paris, got "Mars/Olympus"',
      'DAILY_SUMMARY_CRON: expected a cron expression such as "0 8 * * *" (minute hour day month weekday), got "every morning"',
    ]);
  });
});
