import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../../../src/cli/io.js';
import { runCli } from '../../../src/cli/program.js';
import { commandLog } from '../../../src/db/schema/index.js';
import { getBotState } from '../../../src/services/bot-state.js';
import { readPendingKills } from '../../../src/services/kill/pending-kill.js';
import { createPostgresTestDb, type TestDatabase } from '../../support/db.js';

function io(env: Record<string, string>): CliIo & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  const cwd = mkdtempSync(join(tmpdir(), 'ctb-cli-'));
  return {
    // No bot with the Kraken key runs beside these commands: the engine lease says so and the kill does
    // not hand the Kraken cancel over; the short KILL_HANDOFF_TIMEOUT bounds it should the lease be unreadable.
    env: { LOG_LEVEL: 'error', LOG_DIR: join(cwd, 'logs'), KILL_HANDOFF_TIMEOUT: '500ms', ...env }, cwd,
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s) },
    out: () => out,
    err: () => err,
  };
}

const CTB = fileURLToPath(new URL('../../../bin/ctb.js', import.meta.url));

let testDb: TestDatabase;
beforeAll(async () => {
  testDb = await createPostgresTestDb();
});
afterAll(async () => {
  await testDb?.close();
});

describe('ctb kill / incident / resume', () => {
  it('halts from the terminal, shows the checklist, and refuses to resume without an audit', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ctb-data-'));
    const env = { DATABASE_URL: testDb.url, DATA_DIR: dataDir };
    const kill = io(env);
    const code = await runCli(['kill', '--reason', 'fat finger'], kill);
    expect(kill.out()).toMatch(/KILLED|Already killed/);
    expect(kill.out()).toMatch(/paper:/);
    expect(kill.out()).toMatch(/Incident #\d+ — manual-intervention checklist/);
    expect([0, 1]).toContain(code);
    expect(await getBotState(testDb.db)).toMatchObject({ halted: true, mode: 'paper', haltedReason: 'fat finger' });

    const again = io(env);
    await runCli(['kill', '--json'], again);
    expect(JSON.parse(again.out())).toMatchObject({ alreadyKilled: true, state: 'written' });

    const show = io(env);
    expect(await runCli(['incident'], show)).toBe(0);
    expect(show.out()).toMatch(/HALTED: fat finger/);
    expect(show.out()).toMatch(/\[ \] notify_stakeholders/);

    const tick = io(env);
    expect(await runCli(['incident', 'done', 'notify_stakeholders', '--note', 'emailed'], tick)).toBe(0);
    expect(tick.out()).toMatch(/notify_stakeholders: done by cli:/);

    const badItem = io(env);
    expect(await runCli(['incident', 'done', 'everything'], badItem)).toBe(2);
    // Named as typed, not by the command's internal name, and pointing at the usage like commander's errors.
    expect(badItem.err()).toMatch(/^error: Bad arguments for incident done: item: expected one of cancel_orders, [^\n]*, got "everything"\n\(run ctb incident done --help for its usage and options\)\n$/);
    // With a database to hold it, the attempt is trailed (only an embedded one not started yet is spared it).
    expect((await testDb.db.select().from(commandLog)).some((r) => r.command === 'incident done' && r.args.includes('"everything"') && r.result.startsWith('usage:'))).toBe(true);
    // A near miss of a choice gets the suggestion, in text and in --json.
    const nearMiss = io(env);
    expect(await runCli(['incident', 'done', 'cancel_order'], nearMiss)).toBe(2);
    expect(nearMiss.err()).toContain('item: expected one of cancel_orders, close_positions, reconcile_ledger, notify_stakeholders, got "cancel_order" (Did you mean cancel_orders?)\n');
    // A choice named by one of its words (the item's first, as one says it) gets it too.
    for (const [word, meant] of [['notify', 'notify_stakeholders'], ['reconcile', 'reconcile_ledger']]) {
      const part = io(env);
      expect(await runCli(['incident', 'done', word!], part), word).toBe(2);
      expect(part.err(), word).toContain(`got "${word}" (Did you mean ${meant}?)\n`);
    }
    // Never the item that sells every position, nor a neighbour standing in for it, in text or in --json.
    for (const argv of [['close'], ['positions', '--yes'], ['close_position']]) {
      const sell = io(env);
      expect(await runCli(['incident', 'done', ...argv, '--json'], sell), argv[0]).toBe(2);
      expect(sell.err(), argv[0]).toContain(`got "${argv[0]}"\n`);
      expect(sell.err(), argv[0]).not.toContain('Did you mean');
      expect(JSON.parse(sell.out()), argv[0]).toMatchObject({ code: 'bad_arguments', suggestion: [] });
    }
    const nearMissJson = io(env);
    expect(await runCli(['incident', 'done', 'cancel_order', '--json'], nearMissJson)).toBe(2);
    expect(JSON.parse(nearMissJson.out())).toMatchObject({ code: 'bad_arguments', suggestion: ['cancel_orders'], expected: 'one of cancel_orders, close_positions, reconcile_ledger, notify_stakeholders', exitCode: 2 });

    const resume = io(env);
    expect(await runCli(['resume'], resume)).toBe(1);
    expect(resume.err()).toMatch(/passing audit run after the halt/);
    expect(resume.out()).toBe('');
  });

  it('resume --json refuses with one JSON object on stdout: ok false, every unmet condition, each with what meets it', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ctb-data-'));
    const env = { DATABASE_URL: testDb.url, DATA_DIR: dataDir };
    await runCli(['kill', '--reason', 'refusal shape'], io(env));
    const resume = io(env);
    expect(await runCli(['resume', '--json'], resume)).toBe(1);
    const refusal = JSON.parse(resume.out());
    expect(refusal).toEqual({
      ok: false, code: 'resume_conditions_unmet', exitCode: 1, suggestion: [],
      error: expect.stringMatching(/^Resuming needs \d+ conditions that are not met:\n/),
      expected: 'Meet each, then resume.',
    });
    // The audit and every undone checklist item at once (the first test of this file ticked
    // notify_stakeholders of the same incident), each with the command that meets it.
    const lines: string[] = refusal.error.split('\n').slice(1);
    expect(refusal.error).toMatch(new RegExp(`^Resuming needs ${lines.length} conditions`));
    expect(lines[0]).toMatch(/^ {2}1\. No passing audit run after the halt \(.+\): none has run since → ctb audit \(or \/golive audit\), and fix what it finds$/);
    const items = lines.slice(1).map((l) => /^ {2}\d+\. Checklist item (\w+) of incident \d+ is not done → ctb incident done \1( --yes)? \(or its button in the incident thread\)$/.exec(l)?.[1]);
    expect(items).toEqual(expect.arrayContaining(['cancel_orders', 'close_positions', 'reconcile_ledger']));
    expect(lines.find((l) => l.includes('Checklist item close_positions'))).toContain('ctb incident done close_positions --yes');
    // The person reading the terminal still gets the text.
    expect(resume.err()).toMatch(/^error: Resuming needs \d+ conditions that are not met:\n {2}1\. No passing audit run after the halt/);
    // …with what to do on a line of its own, not run on from the last condition.
    expect(resume.err()).toMatch(/\(or its button in the incident thread\)\nMeet each, then resume\.\n$/);
  });

  it('with the database down, still answers and saves the halt to DATA_DIR', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ctb-data-'));
    const kill = io({ DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none', DATA_DIR: dataDir, KILL_DB_TIMEOUT: '2s' });
    const started = Date.now();
    await runCli(['kill', '--reason', 'db gone'], kill);
    expect(Date.now() - started).toBeLessThan(15_000);
    // The database it was aimed at is named (never a password): a bot on another one is not halted by it.
    expect(kill.out()).toMatch(/The database \(PostgreSQL 127\.0\.0\.1:1\/none\) did not answer .* the halt is saved only in .*kill-pending\.json, NOT in the database/);
    expect(kill.out()).not.toMatch(/KILLED|stays halted/);
    // No key here and no database to reach a bot through: it says the cancel was not handed over.
    expect(kill.out().split('\n')[1]).toBe('This process has no Kraken key and the cancel on Kraken could not be handed to a bot that has it: orders may remain open on Kraken.');
    expect(readPendingKills(dataDir)).toEqual([expect.objectContaining({ reason: 'db gone', actorSource: 'cli' })]);
  });

  it('with a database that does not exist, says it could not be used, not that it did not answer', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ctb-data-'));
    const missing = new URL(testDb.url);
    missing.pathname = '/ctb_no_such_database';
    const kill = io({ DATABASE_URL: missing.toString(), DATA_DIR: dataDir, KILL_DB_TIMEOUT: '2s' });
    expect(await runCli(['kill', '--reason', 'db missing'], kill)).toBe(2);
    expect(kill.out()).toMatch(/The database \(PostgreSQL [^)]+\/ctb_no_such_database\) could not be used as configured \(db_missing: .*ctb_no_such_database.* does not exist.*\): the halt is saved only in .*kill-pending\.json/);
    expect(kill.out()).toContain('writes it to the database once the database can be used');
    expect(kill.out()).toContain('this process has no Kraken key and the database could not be used as configured, so the cancel could not be handed');
    expect(kill.out()).not.toContain('did not answer');
  });

  it('as a one-shot process, says an alert it could not store is lost, not retried by a delivery tick', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ctb-data-'));
    const cwd = mkdtempSync(join(tmpdir(), 'ctb-cli-'));
    const env = { PATH: process.env.PATH ?? '', HOME: cwd, DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none', DATA_DIR: dataDir, LOG_DIR: join(cwd, 'logs'), KILL_DB_TIMEOUT: '2s' };
    const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((done) => {
      const child = execFile(process.execPath, [CTB, 'kill', '--reason', 'one shot'], { cwd, env }, (_err, _out, err) => done({ code: child.exitCode, stderr: err }));
    });
    expect(code).toBe(1);
    const unstored = stderr.split('\n').filter((l) => l.includes('could not store an alert'));
    expect(unstored.length).toBeGreaterThan(0);
    for (const line of unstored) {
      expect(line).toContain('it is not sent from here: this process runs one command and exits, with no delivery tick to retry it, so the alert is lost');
      expect(line).not.toContain('retried by the delivery tick');
    }
  });
});
