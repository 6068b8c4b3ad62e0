// Starts taking the embedded database's lock, for the takeover race test
// (tests/integration/db/pglite-lock-race.test.ts). Says "ready" once loaded; for each data directory
// read on stdin (racing processes are sent theirs together) tries the lock and says "won" or "lost",
// keeping what it took (alive: its locks are held) until stdin closes, then exits.
//   node childScript('pglite-lock-child')
import { createInterface } from 'node:readline';
import { acquireLock } from '../../src/db/pglite-lock.js';

process.stdout.write('ready\n');
for await (const dataDir of createInterface({ input: process.stdin })) {
  process.stdout.write(acquireLock(dataDir, null) ? 'won\n' : 'lost\n');
}
process.exit(0);
