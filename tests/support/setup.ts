// Every test file: no real network. Only loopback (local fakes, PostgreSQL) is reachable,
// so a request that a test forgot to mock fails loudly instead of reaching Kraken or Slack.
import nock from 'nock';
import { afterAll, beforeAll } from 'vitest';

beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect(/^(127\.0\.0\.1|localhost|\[::1\])(:\d+)?$/);
});

afterAll(() => {
  nock.cleanAll();
  nock.enableNetConnect();
});
