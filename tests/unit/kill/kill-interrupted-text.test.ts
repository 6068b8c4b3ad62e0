// What a `ctb kill` stopped (SIGINT, SIGTERM) before it answered prints: only what is known then.
// The case of a halt already recorded is run on a real child in tests/integration/kill/kill-shell.test.ts.
import { describe, expect, it } from 'vitest';
import { haltSavedNotice, interruptedKillText } from '../../../src/cli/commands/kill.js';

describe('the text of a kill stopped before it answered', () => {
  it('before the database confirmed the halt: claims no halt, no cancel, and says how to check and what to run', () => {
    const text = interruptedKillText('SIGTERM', null, true);
    expect(text.split('\n')).toEqual([
      'INTERRUPTED (SIGTERM) before the kill answered:',
      '  Halt: NOT CONFIRMED — the kill was stopped before the database confirmed the halt: `ctb mode status` shows whether trading is halted.',
      '  Orders on Kraken: NOT CONFIRMED cancelled — the kill was stopped before zero open orders were confirmed: orders may remain open on Kraken.',
      "  Next: run `ctb kill` again, or cancel in Kraken's UI.",
      '',
    ]);
  });

  it('without the key here: sends the operator to run the kill where the key is', () => {
    const text = interruptedKillText('SIGINT', { incidentId: 7, alreadyKilled: false, joined: false }, false);
    expect(text).toMatch(/^ {2}Halt: yes — .*\(incident #7\)/m);
    expect(text).toMatch(/^ {2}Next: run `ctb kill` again where the Kraken key is \(it joins incident #7 and cancels again\)/m);
  });

  it('after the halt went to an embedded database no engine has ever run on: says no bot is halted, never that trading is halted, and where to run the kill', () => {
    const text = interruptedKillText('SIGINT', null, true, { dataDir: '/tmp/b/data', cwd: '/tmp/b' });
    expect(text.split('\n')).toEqual([
      'INTERRUPTED (SIGINT) before the kill answered:',
      '  Halt: NO BOT HALTED — the halt was written to the embedded database in DATA_DIR /tmp/b/data (from /tmp/b), on which no engine has ever run: a bot running with another DATA_DIR or DATABASE_URL is NOT halted and keeps trading.',
      '  Orders on Kraken: NOT CONFIRMED cancelled — the kill was stopped before zero open orders were confirmed: orders may remain open on Kraken.',
      "  Next: run ctb kill with the bot's DATA_DIR (or DATABASE_URL), or cancel in Kraken's UI.",
      '',
    ]);
    expect(text).not.toMatch(/trading is halted/);
  });

  it('with no embedded database at DATA_DIR (none made, nothing written): says no halt was recorded, no bot is halted, and where to run the kill', () => {
    const text = interruptedKillText('SIGINT', null, true, { dataDir: '/tmp/b/data', cwd: '/tmp/b', noDatabase: true });
    expect(text.split('\n')).toEqual([
      'INTERRUPTED (SIGINT) before the kill answered:',
      '  Halt: NO BOT HALTED — there is no embedded database in DATA_DIR /tmp/b/data (from /tmp/b): this kill recorded no halt and created none; the running bot (if any) is NOT halted and keeps trading.',
      '  Orders on Kraken: NOT CONFIRMED cancelled — the kill was stopped before zero open orders were confirmed: orders may remain open on Kraken.',
      "  Next: run ctb kill with the bot's DATA_DIR (or DATABASE_URL), or cancel in Kraken's UI.",
      '',
    ]);
    expect(text).not.toMatch(/written/);
  });

  it('with the halt saved in DATA_DIR and the database not answered yet: says where the halt is kept, what writes it, and not `ctb mode status` as the way to know', () => {
    const text = interruptedKillText('SIGTERM', null, false, undefined, { file: '/srv/ctb/data/kill-pending.json' });
    const lines = text.split('\n');
    expect(lines[1]).toBe('  Halt: NOT CONFIRMED in the database — the kill was stopped before the database answered; the halt is saved in DATA_DIR, in /srv/ctb/data/kill-pending.json.');
    expect(lines[2]).toMatch(/^ {2}Until it is written, only a process that reads that DATA_DIR is halted by it: .*once the database answers, as does the next `ctb start` with it\./);
    expect(lines[4]).toBe("  Next: run `ctb kill` again where the Kraken key is, or cancel in Kraken's UI. Once the database answers, `ctb self-heal` (or the bot's next start) writes the saved halt to it, and `ctb mode status` shows it.");
    expect(text).not.toMatch(/`ctb mode status` shows whether trading is halted/);
  });

  it('with a database that cannot be used as configured: says so, not that it did not answer', () => {
    const text = interruptedKillText('SIGINT', null, true, undefined, { file: '/d/kill-pending.json', database: { error: 'db_missing: The database named in DATABASE_URL does not exist.', configProblem: true } });
    expect(text.split('\n')[1]).toBe('  Halt: NOT in the database — it could not be used as configured (db_missing: The database named in DATABASE_URL does not exist); the halt is saved only in DATA_DIR, in /d/kill-pending.json.');
    expect(text).toMatch(/Once the database can be used, `ctb self-heal`/);
    expect(text).not.toMatch(/did not answer/);
  });

  it('with the halt write past its deadline: says it is not confirmed in the database (the write may still land), never that it is not there', () => {
    const saved = { file: '/d/kill-pending.json', database: { error: 'deadline: the database did not answer within 3000 ms.', configProblem: false, timedOut: true } };
    const text = interruptedKillText('SIGINT', null, true, undefined, saved);
    expect(text.split('\n')[1]).toBe('  Halt: not confirmed in the database — it did not answer in time (deadline: the database did not answer within 3000 ms) and the write may still land; the halt is saved in DATA_DIR, in /d/kill-pending.json.');
    const notice = haltSavedNotice(saved);
    expect(notice).toMatch(/^Halt not confirmed in the database: The database did not answer in time \(deadline: .*\): the halt is saved in \/d\/kill-pending\.json and not confirmed in the database \(the write may still land\)\. Until it is written/);
    for (const said of [text, notice]) expect(said).not.toMatch(/NOT in the database/);
  });

  it('names the database the saved halt is aimed at, when the kill knows it: a bot on another database is not halted by it', () => {
    const saved = { file: '/d/kill-pending.json', target: 'PostgreSQL db.internal:5432/ctb', database: { error: 'db_refused: The database refused the connection.', configProblem: false } };
    const text = interruptedKillText('SIGINT', null, true, undefined, saved);
    expect(text.split('\n')[1]).toBe('  Halt: NOT in the database (PostgreSQL db.internal:5432/ctb) — it did not answer (db_refused: The database refused the connection); the halt is saved only in DATA_DIR, in /d/kill-pending.json.');
    expect(haltSavedNotice(saved)).toMatch(/^Halt NOT in the database: The database \(PostgreSQL db\.internal:5432\/ctb\) did not answer \(db_refused: /);
  });
});
