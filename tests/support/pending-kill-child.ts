// A process changing DATA_DIR/kill-pending.json as a shell's kill and a bot's replay do, for the race
// test (tests/integration/kill/pending-kill-race.test.ts). Says "ready" once loaded, waits for a line
// on stdin (so racing processes start together), does its part, says "done" and exits:
//   node childScript('pending-kill-child') <dataDir> save <prefix> <count>
//     <count> kills, each saved as running (owned by this process) and then released, as a kill
//     whose database did not answer leaves it;
//   node childScript('pending-kill-child') <dataDir> drop <id,id,...>
//     drops each, as a replay that wrote them.
import { createInterface } from 'node:readline';
import { discardPendingKill, releaseRunningKill, saveRunningKill } from '../../src/services/kill/pending-kill.js';

const [dataDir, action, ...rest] = process.argv.slice(2) as [string, 'save' | 'drop', ...string[]];
const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
process.stdout.write('ready\n');
await lines.next();
if (action === 'save') {
  const [prefix, count] = rest as [string, string];
  for (let i = 0; i < Number(count); i++) {
    const kill = { killId: `${prefix}-${i}`, at: new Date().toISOString(), actor: 'cli:ops', actorSource: 'cli' as const, trigger: 'manual' as const, reason: 'raced', cancelReport: {} };
    await saveRunningKill(dataDir, kill, 60_000);
    await releaseRunningKill(dataDir, { ...kill, database: { error: 'connect ECONNREFUSED', configProblem: false } });
  }
} else {
  for (const killId of (rest[0] ?? '').split(',')) await discardPendingKill(dataDir, killId);
}
process.stdout.write('done\n');
process.exit(0);
