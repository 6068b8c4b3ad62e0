// `ctb kill saved` in a shell: lists the kills saved in DATA_DIR, and drops one aimed at a database
// that will never answer — with a reason, saying what it drops, recorded in LOG_DIR and (when the
// database answers) the command log; never one still running, aimed at this database, or unknown.
// The listing's --json and the refusals whose process is not what they check run in this process (the
// answer and the exit code are runCli's, which the binary exits with); one refusal of each exit code
// still runs as a child: the one of a kill still running must, a kill owned by this process being its own.
import { mkdtempSync, readFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/clock.js';
import { runCli } from '../../../src/cli/program.js';
import { commandLog } from '../../../src/db/schema/index.js';
import { updateBotState } from '../../../src/services/bot-state.js';
import { killTargetOf } from '../../../src/services/kill/kill-target.js';
import { addPendingKill, readPendingKills, type PendingKill } from '../../../src/services/kill/pending-kill.js';
import { recordingIo } from '../../support/cli-io.js';
import { ctbIn } from '../../support/ctb-shell.js';
import { freePort } from '../../support/free-port.js';
import { useKillTestDb } from '../../support/kill-context.js';

const kill = useKillTestDb(['command_log', 'bot_state']);

const saved = (killId: string, target?: string, extra: Partial<PendingKill> = {}): PendingKill => ({
  killId, at: '2026-03-02T09:59:00.000Z', actor: 'cli:ops', actorSource: 'cli', trigger: 'manual', reason: `saved ${killId}`, cancelReport: {},
  ...(target !== undefined ? { target } : {}), ...extra,
});

/** A shell's directory with DATA_DIR holding `kills`, and its environment on `databaseUrl`. */
async function shellWith(kills: PendingKill[], databaseUrl: string) {
  const dir = mkdtempSync(join(tmpdir(), 'ctb-kill-saved-'));
  const dataDir = join(dir, 'data');
  for (const k of kills) await addPendingKill(dataDir, k);
  const env = { DATABASE_URL: databaseUrl, KILL_DB_TIMEOUT: '1s' };
  /** The same command run in this process, on the same DATA_DIR and LOG_DIR. */
  const here = async (args: string[]) => {
    const io = recordingIo({ LOG_LEVEL: 'warn', HOME: dir, DATA_DIR: dataDir, LOG_DIR: join(dir, 'logs'), ...env });
    const code = await runCli(['kill', 'saved', ...args], io);
    return { code, stdout: io.out(), stderr: io.err() };
  };
  return {
    dir, dataDir, run: (args: string[]) => ctbIn(dir, ['kill', 'saved', ...args], env), here, systemLog: () => readFileSync(join(dir, 'logs', 'system.log'), 'utf8'),
  };
}

const GONE = 'PostgreSQL db1.internal:5432/ctb';

describe('ctb kill saved', () => {
  it('lists each saved kill with the database it is aimed at, says which ones only a discard can clear, and which are matched by name alone', async () => {
    const here = killTargetOf({ DATABASE_URL: kill.db().url, DATA_DIR: 'x' });
    const known = { systemIdentifier: '7000000000000000001', database: 'ctb' };
    const shell = await shellWith([saved('k-gone', GONE, { database: { error: 'connect ECONNREFUSED', configProblem: false } }), saved('k-here', here),
      saved('k-known', GONE, { server: known })], kill.db().url);
    const run = await shell.run([]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`3 kill(s) saved in ${join(shell.dataDir, 'kill-pending.json')} — this configuration's database: ${here} (server `);
    // Saved by a process that never learned its database's identity (a shell whose kill never reached it): the name alone decides, and the listing says so.
    expect(run.stdout).toMatch(/k-gone {2}saved 2026-03-02T09:59:00.000Z by cli:ops: "saved k-gone"\n {6}aimed at ANOTHER database: PostgreSQL db1.internal:5432\/ctb — written only by a process on it\n {6}identity unknown: decided by name \(the killing process never learned its database's server identity\)\n {6}will that database never answer again\? ctb kill saved --discard k-gone --reason "why"\n {6}that database said: connect ECONNREFUSED/);
    expect(run.stdout).toMatch(/k-here .*\n {6}aimed at this database: written once it answers \(ctb self-heal writes it now\)\n {6}identity unknown: decided by name/);
    expect(run.stdout).toMatch(/k-known .*\n {6}aimed at ANOTHER database: PostgreSQL db1.internal:5432\/ctb \(server 7000000000000000001, database ctb\) — written only by a process on it\n {6}will that database/);
    expect(run.stdout.match(/decided by name/g)).toHaveLength(2);
    const json = await shell.here(['--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: true, kills: [{ killId: 'k-gone', aimedHere: false, target: GONE, decidedBy: 'name' },
      { killId: 'k-here', aimedHere: true, decidedBy: 'name' }, { killId: 'k-known', aimedHere: false, decidedBy: 'server' }] });
  }, 120_000);

  it('discards one aimed at a database that will never answer: says what it drops, keeps the others, logs it in LOG_DIR and the command log', async () => {
    const here = killTargetOf({ DATABASE_URL: kill.db().url, DATA_DIR: 'x' });
    const shell = await shellWith([saved('k-gone', GONE), saved('k-here', here)], kill.db().url);
    const run = await shell.run(['--discard', 'k-gone', '--reason', 'db1 decommissioned; the bot runs on db2']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`DISCARDED the saved kill k-gone (saved 2026-03-02T09:59:00.000Z by cli:ops: "saved k-gone"), aimed at ${GONE}.`);
    expect(run.stdout).toContain('Reason: db1 decommissioned; the bot runs on db2 — by cli:');
    expect(run.stdout).toContain('nothing is cancelled less, and no halt is lifted');
    expect(run.stdout).toContain('and in the command log');
    // The dropped kill was never written here: a bot that latched it is halted only until it restarts, and the answer says so.
    expect(run.stdout).toContain(`This database (${here}) records NO halt: a running bot that read the saved kill stays halted only until it restarts, then trades. To keep it halted, run ctb kill --reason "…" (it records the halt here).`);
    expect(readPendingKills(shell.dataDir).map((k) => k.killId)).toEqual(['k-here']);
    expect(shell.systemLog()).toMatch(/"killId":"k-gone","discardReason":"db1 decommissioned; the bot runs on db2".*saved kill k-gone discarded by cli:/);
    const rows = await kill.db().db.select().from(commandLog);
    expect(rows).toEqual([expect.objectContaining({ command: 'kill saved', source: 'cli', result: 'ok', args: JSON.stringify({ discard: 'k-gone', reason: 'db1 decommissioned; the bot runs on db2' }) })]);
    expect(rows[0]!.details).toMatchObject({ discarded: { killId: 'k-gone', target: GONE }, discardReason: 'db1 decommissioned; the bot runs on db2' });
  }, 120_000);

  it('with no database answering, still discards and says it is recorded in LOG_DIR only', async () => {
    const shell = await shellWith([saved('k-gone', GONE)], `postgres://postgres@127.0.0.1:${await freePort()}/x`);
    const run = await shell.run(['--discard', 'k-gone', '--reason', 'db1 gone']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/; NOT in the command log: .+\.\n/);
    expect(run.stdout).toContain('records a halt is not known (it did not answer)');
    expect(readPendingKills(shell.dataDir)).toEqual([]);
    expect(shell.systemLog()).toContain('saved kill k-gone discarded by cli:');
  }, 120_000);

  it('says the bot stays halted until resumed when this database records the halt', async () => {
    await updateBotState(kill.db().db, new ManualClock('2026-03-02T10:00:00Z'), { halted: true, haltedReason: 'an earlier kill' });
    const shell = await shellWith([saved('k-gone', GONE)], kill.db().url);
    const run = await shell.run(['--discard', 'k-gone', '--reason', 'db1 gone']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('records the bot halted: it stays halted until an operator resumes it (ctb resume).');
  }, 120_000);

  it('refuses without a reason, an unknown id, a kill aimed at this database, a kill still running — dropping nothing', async () => {
    const here = killTargetOf({ DATABASE_URL: kill.db().url, DATA_DIR: 'x' });
    const running = saved('k-running', GONE, { owner: { host: hostname(), pid: process.pid, until: new Date(Date.now() + 600_000).toISOString() } });
    const shell = await shellWith([saved('k-gone', GONE), saved('k-here', here), saved('k-old'), running], kill.db().url);
    const all = ['k-gone', 'k-here', 'k-old', 'k-running'];

    const noReason = await shell.run(['--discard', 'k-gone']);
    expect(noReason.code).toBe(2);
    expect(noReason.stderr).toContain('A reason is required to discard a saved kill: --reason "why it will never be written"');
    const blank = await shell.here(['--discard', 'k-gone', '--reason', '   ']);
    expect(blank.code).toBe(2);
    const unknown = await shell.here(['--discard', 'k-nope', '--reason', 'x']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain(`No saved kill "k-nope" in ${join(shell.dataDir, 'kill-pending.json')}; expected one of: ${all.join(', ')}`);
    const reasonAlone = await shell.here(['--reason', 'x']);
    expect(reasonAlone.code).toBe(2);
    expect(reasonAlone.stderr).toContain('--reason goes with --discard');

    const aimedHere = await shell.here(['--discard', 'k-here', '--reason', 'x']);
    expect(aimedHere.code).toBe(1);
    expect(aimedHere.stderr).toContain(`The saved kill k-here is aimed at this configuration's database (${here}): it is written there, not discarded, once that database answers.`);
    expect(aimedHere.stderr).toContain('Nothing was dropped.');
    const older = await shell.here(['--discard', 'k-old', '--reason', 'x']);
    expect(older.code).toBe(1);
    expect(older.stderr).toContain('saved by an older version that named no database, so any process writes it');
    const stillRunning = await shell.run(['--discard', 'k-running', '--reason', 'x']);
    expect(stillRunning.code).toBe(1);
    expect(stillRunning.stderr).toContain(`is still being written by its kill, running in ${hostname()}:${process.pid}`);

    expect(readPendingKills(shell.dataDir).map((k) => k.killId)).toEqual(all);
    // Each refused attempt is in the command log too.
    expect((await kill.db().db.select().from(commandLog)).map((r) => r.result.split(':')[0])).toEqual([
      'discard_reason_required', 'discard_reason_required', 'saved_kill_not_found', 'saved_kill_aimed_here', 'saved_kill_aimed_here', 'saved_kill_running']);
  }, 180_000);
});
