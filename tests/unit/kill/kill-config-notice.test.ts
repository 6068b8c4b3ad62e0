// What `ctb kill` prints before it goes on with a configuration that has problems: which settings
// fall back to their defaults, in a sentence that agrees with how many there are.
import { describe, expect, it } from 'vitest';
import { invalidConfigNotice } from '../../../src/cli/commands/kill.js';
import { salvageConfigForKill } from '../../../src/config/salvage.js';

const noticeFor = (env: Record<string, string>) => {
  const { problems, dropped } = salvageConfigForKill(env);
  return invalidConfigNotice(dropped, problems);
};

describe("the kill's notice of an invalid configuration", () => {
  it('says one setting falls back to its default', () => {
    const notice = noticeFor({ IS_LIVE: 'true' });
    expect(notice.split('\n')[0]).toBe('Invalid configuration (the kill goes on; IS_LIVE falls back to its default — fix it before the bot starts again):');
    expect(notice).toMatch(/^ {2}- KRAKEN_API_KEY: /m);
  });

  it('lists two or more settings with "and" and says they fall back to their defaults', () => {
    expect(noticeFor({ IS_LIVE: 'true', PORT: 'eighty' }).split('\n')[0])
      .toMatch(/^Invalid configuration \(the kill goes on; (IS_LIVE and PORT|PORT and IS_LIVE) fall back to their defaults — fix them before the bot starts again\):$/);
    expect(invalidConfigNotice(['PORT', 'IS_LIVE', 'LOG_LEVEL'], ['PORT: x', 'KRAKEN_API_KEY: y', 'LOG_LEVEL: z']).split('\n')[0])
      .toBe('Invalid configuration (the kill goes on; PORT, IS_LIVE and LOG_LEVEL fall back to their defaults — fix them before the bot starts again):');
  });
});
