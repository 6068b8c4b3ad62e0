// Every test file: no real network. Only loopback (local fakes, PostgreSQL) is reachable,
// so a request that a test forgot to mock fails loudly instead of reaching Kraken or Slack.
// And, when the suite bench asks for it (CTB_TEST_FILE_CPU), each file's CPU (tests/support/file-cpu.ts).
import nock from 'nock';
import { afterAll, beforeAll } from 'vitest';
import { measureChildren } from './child-cpu.js';
import { fileCpuEnd } from './file-cpu.js';

const cpuLog = process.env.CTB_TEST_FILE_CPU;
const childLog = process.env.CTB_TEST_CHILD_CPU;

beforeAll(({}, suite) => {
  if (childLog && 'filepath' in suite && typeof suite.filepath === 'string') measureChildren(childLog, suite.filepath);
  nock.disableNetConnect();
  nock.enableNetConnect(/^(127\.0\.0\.1|localhost|\[::1\])(:\d+)?$/);
});

afterAll(({}, suite) => {
  nock.cleanAll();
  nock.enableNetConnect();
  if (cpuLog && 'filepath' in suite && typeof suite.filepath === 'string') fileCpuEnd(cpuLog, suite.filepath);
});
