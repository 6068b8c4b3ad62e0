// A process writing LOG_DIR as the bot or a `ctb` command does, for the log rotation tests: made
// with createLogger({ rotate }) exactly as `ctb start` (rotate) or a command (append) makes it.
// Each stdin line "<count> <tag>" writes that many lines tagged so, then answers "ok" on stdout.
// Built before the run (tests/support/build-children.ts); a test starts it with
// node childScript('log-writer-child') <log-dir> <LOG_MAX_BYTES> rotate|append
import { createInterface } from 'node:readline';
import { testConfig } from '../../src/config/env.js';
import { createLogger } from '../../src/logger.js';

const [logDir, maxBytes, mode] = process.argv.slice(2) as [string, string, 'rotate' | 'append'];
const logger = createLogger({
  config: testConfig({ LOG_DIR: logDir, LOG_MAX_BYTES: maxBytes, LOG_ARCHIVES: '100', LOG_LEVEL: 'info' }), stdout: false, rotate: mode === 'rotate',
});
for await (const line of createInterface({ input: process.stdin })) {
  const [count, tag] = line.split(' ') as [string, string];
  for (let i = 0; i < Number(count); i++) logger.info({ tag, i, pad: 'x'.repeat(80) }, 'log writer line');
  process.stdout.write('ok\n');
}
