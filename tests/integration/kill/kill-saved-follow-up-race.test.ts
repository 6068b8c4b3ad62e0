// A `ctb kill` with the key while the database is down and Kraken cannot be reached answers only once
// its cancel rounds run out (KILL_CONFIRM_WAIT), and saves the cancel it could not confirm in its entry
// in DATA_DIR, for the replay to hand on. Meanwhile a replay in another process (a bot's halt watcher,
// `ctb self-heal`) on the same DATA_DIR — once the database answers there — must leave the entry to
// the kill while it runs: a replay that took it in between wrote the halt without the follow-up the
// kill then saved, and the kill's update brought the entry back for a second replay. Here `ctb self-heal`
// runs again and again while the kill runs, and once more after it exits: in this process, another
// than the kill's (whose entry a replay leaves alone while its owner, the kill's process, lives), so
// that each replay costs a command, not a process start, and many of them race the kill's rounds.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { engineRequests } from '../../../src/db/schema/index.js';
import { runCli } from '../../../src/cli/program.js';
import { getBotState } from '../../../src/services/bot-state.js';
import { readPendingKills } from '../../../src/services/kill/pending-kill.js';
import { createPostgresTestDb } from '../../support/db.js';
import { recordingIo } from '../../support/cli-io.js';
import { ctbChildInShell } from '../../support/ctb-shell.js';
import { CLOSED_LOCAL_URL } from '../../support/local-only.js';
import { freePort } from '../../support/free-port.js';
import { startStallProxy } from '../../support/stall-proxy.js';
import { TEST_API_KEY, TEST_API_SECRET } from '../../support/kraken-test-keys.js';

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!().catch(() => {});
});

describe('a replay racing a kill that saves its unconfirmed cancel in DATA_DIR', () => {
  it('writes the saved kill once, with the follow-up the kill promised — not the halt alone before the kill saved it, nor twice', async () => {
    const database = await createPostgresTestDb();
    cleanup.push(() => database.close());
    const dataDir = join(mkdtempSync(join(tmpdir(), 'ctb-kill-race-')), 'data');
    // The kill's database at a loopback port nobody listens on yet: refused at once. Once the kill has
    // given up on it, that port forwards to the server: the same database (a saved kill is written
    // only into the one it was aimed at) answers there for the replays.
    const port = await freePort();
    const server = new URL(database.url);
    const killUrl = new URL(database.url);
    killUrl.hostname = '127.0.0.1';
    killUrl.port = String(port);
    // The race's window is the kill's cancel rounds, KILL_CONFIRM_WAIT long: 3 s, not its 20 s default,
    // still many `ctb self-heal` runs (a tenth of a second or so each, run in this process) and the
    // first of them always started while the kill runs.
    const kill = ctbChildInShell(['kill', '--reason', 'race'], {
      DATABASE_URL: killUrl.toString(), DATA_DIR: dataDir, KILL_DB_TIMEOUT: '1s', KILL_CONFIRM_WAIT: '3s',
      KRAKEN_API_KEY: TEST_API_KEY, KRAKEN_API_SECRET: TEST_API_SECRET, KRAKEN_API_URL: CLOSED_LOCAL_URL,
    });
    cleanup.push(async () => {
      if (kill.child.exitCode === null && kill.child.signalCode === null) kill.child.kill('SIGKILL');
      await kill.exited.catch(() => {});
    });
    let exited = false;
    const exit = kill.exited.finally(() => void (exited = true));
    await kill.stderrLine(/^Halt NOT in the database: /);
    const proxy = await startStallProxy(server.hostname, Number(server.port || 5432), port);
    cleanup.push(() => proxy.close());

    // `ctb self-heal` on the kill's DATA_DIR with a database that answers: how many saved kills it wrote.
    const heal = async (): Promise<number> => {
      const io = recordingIo({ LOG_LEVEL: 'warn', DATABASE_URL: killUrl.toString(), DATA_DIR: dataDir });
      await runCli(['self-heal', '--attempts', '1'], io);
      const line = /^HEALED\s+pending_kill\s+(\d+) saved kill\(s\) written to the database$/m.exec(io.out());
      return line ? Number(line[1]) : 0;
    };
    const writtenWhileRunning: number[] = [];
    while (!exited) writtenWhileRunning.push(await heal());
    const { code } = await exit;
    const why = `exit ${code}\n${kill.stdout()}\n${kill.stderr().slice(-2000)}\nwhile running: ${writtenWhileRunning.join(',')}`;
    expect(code, why).toBe(1);
    // The replays raced the kill: at least one started while it ran.
    expect(writtenWhileRunning.length, why).toBeGreaterThan(0);
    // The reply promised the follow-up once the saved halt is written.
    expect(kill.stdout(), why).toContain('writing the saved halt hands it on as a follow-up request to the bot with the Kraken key');
    const writtenAfter = await heal();

    // Written once (by a replay after the kill answered, before or after its process ended), with the follow-up.
    expect([...writtenWhileRunning, writtenAfter].reduce((a, b) => a + b, 0), why).toBe(1);
    expect(readPendingKills(dataDir), why).toEqual([]);
    const requests = await database.db.select().from(engineRequests).where(eq(engineRequests.kind, 'cancel_all'));
    expect(requests, why).toEqual([expect.objectContaining({ status: 'pending', checklistItem: 'cancel_orders' })]);
    expect(await getBotState(database.db)).toMatchObject({ halted: true, mode: 'paper', haltedReason: 'race' });
  }, 180_000);
});
