// A process taking the saved kills' lock, for the breaking race test
// (tests/integration/kill/pending-kill-lock-break-race.test.ts). Says "ready" once loaded; on the line
// "go" does its part and says "done" (or "failed: <message>"), then exits when stdin closes:
//   node childScript('pending-kill-lock-child') <dataDir> save <killId>
//     saves one kill (addPendingKill: the lock taken, the file changed, the lock let go);
//   node childScript('pending-kill-lock-child') <dataDir> hold
//     takes the lock, says "holding", and lets it go on the line "release";
//   node childScript('pending-kill-lock-child') <dataDir> save <killId> <fifo>
//     as save, but stopped right after each opening for reading of a file named after the lock (the
//     lock, or anything beside it carrying its name): it says "paused <file name>" and goes on once
//     it reads a line from the named pipe <fifo> — "go" for this once, "free" for good. Opening a file
//     is where the process has judged nothing yet but has pinned what it will read.
import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { basename } from 'node:path';
import { createInterface } from 'node:readline';
import { pendingKillLockPath, withPendingKillLock } from '../../src/services/kill/pending-kill-lock.js';
import { addPendingKill } from '../../src/services/kill/pending-kill.js';

const [dataDir, action, killId, fifo] = process.argv.slice(2) as [string, 'save' | 'hold', string?, string?];
const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const say = (line: string) => writeSync(1, `${line}\n`);

if (fifo !== undefined) stopAtLockReads(fifo);
say('ready');
await lines.next();
try {
  if (action === 'hold') {
    await withPendingKillLock(dataDir, async () => {
      say('holding');
      await lines.next();
    });
  } else {
    await addPendingKill(dataDir, { killId: killId!, at: new Date().toISOString(), actor: 'cli:ops', actorSource: 'cli', trigger: 'manual', reason: 'raced', cancelReport: {} });
  }
  say('done');
} catch (err) {
  say(`failed: ${err instanceof Error ? err.message : String(err)}`);
}
while (!(await lines.next()).done);
process.exit(0);

/** Every opening for reading of a file named after the lock, by either file API, stops here (see the head). */
function stopAtLockReads(pipe: string): void {
  const lockName = basename(pendingKillLockPath(dataDir));
  const control = openSync(pipe, 'r+'); // read-write: opening never waits for the writer
  let free = false;
  const stop = (path: unknown, flags: unknown) => {
    if (free || typeof path !== 'string' || !basename(path).startsWith(lockName) || (flags !== undefined && flags !== 'r')) return;
    say(`paused ${basename(path)}`);
    let line = '';
    const byte = Buffer.alloc(1);
    while (readSync(control, byte, 0, 1, null) === 1 && byte[0] !== 0x0a) line += byte.toString();
    if (line === 'free') {
      free = true;
      closeSync(control);
    }
  };
  const require = createRequire(import.meta.url);
  const cjsFs = require('node:fs') as typeof fs;
  const cjsFsp = require('node:fs/promises') as typeof fsp;
  const openSyncOf = cjsFs.openSync;
  const openOf = cjsFsp.open;
  cjsFs.openSync = ((path: fs.PathLike, flags?: fs.OpenMode, mode?: fs.Mode) => {
    const fd = openSyncOf(path, flags ?? 'r', mode);
    stop(path, flags);
    return fd;
  }) as typeof fs.openSync;
  cjsFsp.open = (async (path: fs.PathLike, flags?: string | number, mode?: fs.Mode) => {
    const file = await openOf(path, flags, mode);
    stop(path, flags);
    return file;
  }) as typeof fsp.open;
  // The lock module's `import { open } from 'node:fs/promises'` sees these from now on.
  syncBuiltinESMExports();
}
