// Usage errors as people meet them: a suggestion for a typo (commands, subcommands after a command
// that has an action, options, choices), and with --json one JSON object on stdout.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Argument, Command, CommanderError, Option } from 'commander';
import { describe, expect, it } from 'vitest';
import { cliCommands } from '../../../src/cli/commands/index.js';
import { runCli } from '../../../src/cli/program.js';
import { deeperCommands, describeUsageError } from '../../../src/cli/usage-errors.js';
import { changesAccount } from '../../../src/cli/changes-account.js';
import { waitSecondsOf } from '../../../src/cli/commands/exit.js';
import { recordingIo } from '../../support/cli-io.js';

const BIN = new URL('../../../bin/ctb.js', import.meta.url).pathname;

/** What follows an unknown command of the program's: its commands, then where to read what each does. */
const PROGRAM_HINT = `ctb's commands: ${cliCommands.map((c) => c.name).join(', ')}\n(run ctb --help for what each does)\n`;

async function run(...argv: string[]) {
  const io = recordingIo({});
  const code = await runCli(argv, io);
  return { code, out: io.out(), err: io.err() };
}

describe('ctb usage errors', () => {
  it.each([
    [['mode', 'livee'], "unknown command 'livee' for 'ctb mode' (Did you mean live?)", 'ctb mode'],
    [['backup', 'verfy', 'backups/x'], "unknown command 'verfy' for 'ctb backup' (Did you mean verify?)", 'ctb backup'],
    [['oncall', 'overide', 'U1', '1h'], "unknown command 'overide' for 'ctb oncall' (Did you mean override?)", 'ctb oncall'],
    [['alerts', 'lst'], "unknown command 'lst' for 'ctb alerts' (Did you mean list?)", 'ctb alerts'],
    // Under a command too, a subcommand's name half remembered gets the nearest one.
    [['runbook', 'live'], "unknown command 'live' for 'ctb runbook' (Did you mean go-live?)", 'ctb runbook'],
    [['alerts', 'ack-all'], "unknown command 'ack-all' for 'ctb alerts' (Did you mean ack?)", 'ctb alerts'],
    [['statss'], "unknown command 'statss' (Did you mean stats?)", null],
    [['stats', '--perod', '7d'], "unknown option '--perod' (Did you mean --period?)", 'ctb stats'],
    [['alerts', 'test', '--severity', 'critcal'], 'Allowed choices are info, warning, critical. (Did you mean critical?)', 'ctb alerts test'],
    [['start', '--feed', 'replya'], 'Allowed choices are kraken, replay. (Did you mean replay?)', 'ctb start'],
    [['completion', 'bahs'], "command-argument value 'bahs' is invalid for argument 'shell'. Allowed choices are bash, zsh. (Did you mean bash?)", 'ctb completion'],
  ])('%j exits 2 with a suggestion and where to read the usage', async (argv, message, command) => {
    const r = await run(...argv);
    expect(r.code).toBe(2);
    expect(r.err).toContain(message);
    expect(r.err).toContain(command ? `(run ${command} --help for its usage and options)` : PROGRAM_HINT);
    expect(r.out).toBe('');
  });

  it('names the valid subcommands when nothing is close to the word typed', async () => {
    const r = await run('mode', 'banana');
    expect(r.code).toBe(2);
    expect(r.err).toBe("error: unknown command 'banana' for 'ctb mode' (expected one of: status, paper, live, history)\n(run ctb mode --help for its usage and options)\n");
    expect((await run('bogus')).err).toBe(`error: unknown command 'bogus'\n${PROGRAM_HINT}`);
  });

  it('an unknown command of ctb says it is unknown, names every command, suggests the nearest one, and exits 2 (usage)', async () => {
    const r = await run('frobnicate');
    expect(r.code).toBe(2);
    // Nothing is near "frobnicate": no guess is made, the commands are listed.
    expect(r.err).toBe(`error: unknown command 'frobnicate'\n${PROGRAM_HINT}`);
    expect(r.out).toBe('');
    // A typo, or a part of a command's name remembered, gets the nearest name.
    for (const [word, meant] of [['stast', 'one of start, stats'], ['verify-credential', 'verify-credentials'], ['credentials', 'verify-credentials'], ['logs', 'one of check-logs, audit-log'], ['roi', 'audit-roi'], ['kill-all', 'kill']]) {
      const typed = await run(word!);
      expect(typed.code, word).toBe(2);
      expect(typed.err, word).toBe(`error: unknown command '${word}' (Did you mean ${meant}?)\n${PROGRAM_HINT}`);
    }
    expect(JSON.parse((await run('roi', '--json')).out)).toMatchObject({ code: 'commander.unknownCommand', suggestion: ['audit-roi'], exitCode: 2 });
  });

  it.each([
    // A word of a deeper command line, typed without the words before it: the whole line is suggested.
    [['incident', 'notify'], "unknown command 'notify' for 'ctb incident' (Did you mean ctb incident done notify_stakeholders?)", 'ctb incident'],
    [['notify'], "unknown command 'notify' (Did you mean ctb incident done notify_stakeholders?)", null],
    [['overide', 'U1', '1h'], "unknown command 'overide' (Did you mean ctb oncall override?)", null],
    [['show'], "unknown command 'show' (Did you mean one of ctb incident show, ctb oncall show?)", null],
  ])('%j: a deeper command it names is suggested whole', async (argv, message, command) => {
    const r = await run(...argv);
    expect(r.code).toBe(2);
    expect(r.err).toBe(`error: ${message}\n${command ? `(run ${command} --help for its usage and options)\n` : PROGRAM_HINT}`);
    expect(JSON.parse((await run(...argv, '--json')).out)).toMatchObject({ error: message, code: 'commander.unknownCommand', exitCode: 2 });
  });

  it.each([
    // Short words are a few edits from too many names: `stop` is not show, `on` is not done, `clear` is not create.
    [['stop']], [['on']], [['clear']],
    // A word naming a line that changes the account gets no guess: not the line that sells every position,
    // nor one that cancels on Kraken, nor the step to live (refused here anyway), nor a neighbour instead.
    [['positions']], [['position']], [['close']], [['cancel']], [['live']],
    // Kill cancels every order and halts; it sells nothing: not a guess for `sell`.
    [['sell']],
  ])('%j: no guess, the commands are listed', async (argv) => {
    const r = await run(...argv);
    expect(r.code).toBe(2);
    expect(r.err).toBe(`error: unknown command '${argv[0]}'\n${PROGRAM_HINT}`);
    expect(JSON.parse((await run(...argv, '--json')).out)).toMatchObject({ suggestion: [] });
  });

  it('under ctb incident, `close` is not answered with the item that sells every position', async () => {
    const r = await run('incident', 'close');
    expect(r.code).toBe(2);
    expect(r.err).toBe("error: unknown command 'close' for 'ctb incident' (expected one of: show, done)\n(run ctb incident --help for its usage and options)\n");
  });

  it('an account-changing command is guessed only for a slip of one edit or a word naming it', async () => {
    for (const [word, meant] of [['kil', 'kill'], ['kill-all', 'kill'], ['exti', 'exit']]) {
      expect((await run(word!)).err, word).toBe(`error: unknown command '${word}' (Did you mean ${meant}?)\n${PROGRAM_HINT}`);
    }
  });

  it('suggests a deeper command line at any depth, and none when too many would fit', () => {
    const program = new Command('ctb');
    const a = program.command('a');
    a.command('b').command('c').command('deep-thing');
    a.command('d').addArgument(Object.assign(new Argument('<what>'), { argChoices: ['first_choice', 'second_choice'] }));
    for (const n of ['x1', 'x2', 'x3', 'x4', 'x5']) program.command(n).command('many');
    expect(deeperCommands(program, 'deep')).toEqual(['ctb a b c deep-thing']);
    expect(deeperCommands(a, 'dep-thing')).toEqual(['a b c deep-thing'].map((l) => `ctb ${l}`));
    expect(deeperCommands(program, 'second')).toEqual(['ctb a d second_choice']);
    // Its own subcommands are where the caller looked already.
    expect(deeperCommands(a, 'b')).toEqual([]);
    expect(deeperCommands(program, 'many')).toEqual([]);
    expect(deeperCommands(program, 'banana')).toEqual([]);
    // By spelling, only words of 5 letters or more: within one edit up to 7, two beyond.
    expect(deeperCommands(program, 'dep')).toEqual([]);
    expect(deeperCommands(program, 'secnod_choice')).toEqual(['ctb a d second_choice']);
    expect(deeperCommands(program, 'deep-thnig')).toEqual(['ctb a b c deep-thing']);
    expect(deeperCommands(program, 'mayn')).toEqual([]);
  });

  it('never suggests a deeper line that changes the account, nor a neighbour for a word that names one', () => {
    const program = new Command('ctb');
    const item = changesAccount(program.command('incident').command('done'), ['close_positions'])
      .addArgument(Object.assign(new Argument('<item>'), { argChoices: ['close_positions', 'notify_stakeholders', 'review_positions'] }));
    expect(item.name()).toBe('done');
    changesAccount(program.command('mode').command('live'));
    program.command('runbook').command('go-live');
    program.command('sell').command('everything').option('--yes', 'confirm');
    expect(deeperCommands(program, 'notify')).toEqual(['ctb incident done notify_stakeholders']);
    // close_positions is marked; review_positions is a neighbour of the word that names it.
    expect(deeperCommands(program, 'positions')).toEqual([]);
    expect(deeperCommands(program, 'close')).toEqual([]);
    expect(deeperCommands(program, 'live')).toEqual([]);
    // A command that asks for --yes changes the account unless marked for some choices only.
    expect(deeperCommands(program, 'everything')).toEqual([]);
    expect(deeperCommands(program, 'review')).toEqual(['ctb incident done review_positions']);
  });

  it('never guesses a choice that changes the account for a mistyped argument or option value', () => {
    const program = new Command('ctb').exitOverride().configureOutput({ writeErr: () => undefined });
    const noop = () => undefined;
    changesAccount(program.command('item'), ['close_positions'])
      .addArgument(new Argument('<item>').choices(['cancel_orders', 'close_positions', 'notify_stakeholders'])).action(noop);
    program.command('sell').option('--yes', 'confirm').addOption(new Option('--size <size>').choices(['half', 'all'])).action(noop);
    const problem = (...argv: string[]) => {
      try {
        program.parse(argv, { from: 'user' });
      } catch (err) {
        return describeUsageError(program, argv, err as CommanderError);
      }
      throw new Error(`${argv.join(' ')} parsed`);
    };
    for (const word of ['close', 'positions', 'close_position']) {
      const p = problem('item', word);
      expect(p, word).toMatchObject({ code: 'commander.invalidArgument', suggestion: [] });
      expect(p.error, word).not.toContain('Did you mean');
    }
    // A harmless choice of the same argument is still guessed.
    expect(problem('item', 'notify')).toMatchObject({ suggestion: ['notify_stakeholders'] });
    expect(problem('item', 'cancel_order').error).toContain('(Did you mean cancel_orders?)');
    // An option's value of a command that changes the account as a whole is not guessed either.
    expect(problem('sell', '--size', 'hal')).toMatchObject({ code: 'commander.invalidArgument', suggestion: [] });
  });

  it('says a bad checklist item before it starts an empty embedded database only to trail it', async () => {
    const io = recordingIo({});
    expect(await runCli(['incident', 'done', 'close', '--json'], io)).toBe(2);
    expect(io.err()).toMatch(/^error: Bad arguments for incident done: item: expected one of cancel_orders, [^\n]*, got "close"\n\(run ctb incident done --help for its usage and options\)\n$/);
    expect(JSON.parse(io.out())).toMatchObject({ code: 'bad_arguments', suggestion: [], exitCode: 2 });
    expect(existsSync(join(io.cwd, 'data'))).toBe(false);
  });

  it.each([
    ['abc', 'expected a whole number of closed trades from 1 to 100, got "abc"'],
    ['2.5', 'expected a whole number of closed trades from 1 to 100, got "2.5"'],
    ['500', 'expected at most 100 closed trades, got "500"'],
    // Blank text coerces to 0: what was typed is echoed, not the 0.
    ['', 'expected at least 1 closed trade, got ""'],
    [' ', 'expected at least 1 closed trade, got " "'],
  ])('ctb trades --closed %s: says what was typed, as every other bad argument does (never NaN)', async (typed, said) => {
    const io = recordingIo({});
    expect(await runCli(['trades', '--closed', typed], io)).toBe(2);
    expect(io.err()).toBe(`error: Bad arguments for trades: closed: ${said}\n(run ctb trades --help for its usage and options)\n`);
  });

  it.each([
    [['oncall', 'override', 'U1', '1h', 'extra'], "too many arguments for 'ctb oncall override'. Expected 2 arguments but got 3.", 'ctb oncall override'],
    [['incident', 'done', 'cancel_orders', 'now'], "too many arguments for 'ctb incident done'. Expected 1 argument but got 2.", 'ctb incident done'],
  ])('%j: too many arguments names the command as typed', async (argv, message, command) => {
    const r = await run(...argv);
    expect(r.code).toBe(2);
    expect(r.err).toBe(`error: ${message}\n(run ${command} --help for its usage and options)\n`);
  });

  it.each([
    [['incident', 'done'], "missing required argument 'item' for 'ctb incident done'", 'ctb incident done'],
    [['oncall', 'override', 'U1'], "missing required argument 'duration' for 'ctb oncall override'", 'ctb oncall override'],
    [['exit'], "missing required argument 'trade-id|all' for 'ctb exit'", 'ctb exit'],
  ])('%j: a missing argument names the command as typed', async (argv, message, command) => {
    const r = await run(...argv);
    expect(r.code).toBe(2);
    expect(r.err).toBe(`error: ${message}\n(run ${command} --help for its usage and options)\n`);
    expect(JSON.parse((await run(...argv, '--json')).out)).toMatchObject({ error: message, code: 'commander.missingArgument' });
  });

  it('ctb <unknown> --help is an unknown command (exit 2), with a suggestion, not the whole help', async () => {
    const typo = await run('stast', '--help');
    expect(typo.code).toBe(2);
    expect(typo.err).toBe(`error: unknown command 'stast' (Did you mean one of start, stats?)\n${PROGRAM_HINT}`);
    expect(typo.out).toBe('');
    const bogus = await run('bogus', '-h');
    expect(bogus.code).toBe(2);
    expect(bogus.err).toBe(`error: unknown command 'bogus'\n${PROGRAM_HINT}`);
  });

  it('ctb help <unknown> is an unknown command (exit 2), with a suggestion, not the whole help', async () => {
    const typo = await run('help', 'stast');
    expect(typo.code).toBe(2);
    expect(typo.err).toBe(`error: unknown command 'stast' (Did you mean one of start, stats?)\n${PROGRAM_HINT}`);
    expect(typo.out).toBe('');
    const bogus = await run('help', 'bogus');
    expect(bogus.code).toBe(2);
    expect(bogus.err).toBe(`error: unknown command 'bogus'\n${PROGRAM_HINT}`);
    expect(bogus.out).toBe('');
    // A known command's help is still help.
    const known = await run('help', 'stats');
    expect(known.code).toBe(0);
    expect(known.out).toContain('Usage: ctb stats');
  });

  it('ctb help --json <unknown> is the same usage error, as JSON, wherever --json stands', async () => {
    for (const argv of [['help', '--json', 'bogus'], ['help', 'bogus', '--json']]) {
      const r = await run(...argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.err).toBe(`error: unknown command 'bogus'\n${PROGRAM_HINT}`);
      expect(JSON.parse(r.out)).toMatchObject({ ok: false, error: "unknown command 'bogus'", code: 'commander.unknownCommand', exitCode: 2 });
    }
    expect(JSON.parse((await run('help', '--json', 'stast')).out)).toMatchObject({ code: 'commander.unknownCommand', suggestion: ['start', 'stats'] });
    // A known command's help is its own help, not the program's.
    const known = await run('help', '--json', 'stats');
    expect(known.code).toBe(0);
    expect(known.out).toContain('Usage: ctb stats');
  });

  it('ctb help <command> <unknown subcommand> is the same usage error as ctb <command> <unknown>, not the command\'s help', async () => {
    const bogus = await run('help', 'mode', 'bogus');
    expect(bogus.code).toBe(2);
    expect(bogus.err).toBe("error: unknown command 'bogus' for 'ctb mode' (expected one of: status, paper, live, history)\n(run ctb mode --help for its usage and options)\n");
    expect(bogus.out).toBe('');
    const typo = await run('help', 'mode', 'livee');
    expect(typo.code).toBe(2);
    expect(typo.err).toBe("error: unknown command 'livee' for 'ctb mode' (Did you mean live?)\n(run ctb mode --help for its usage and options)\n");
    // --json anywhere: the standard error object on stdout.
    for (const argv of [['help', '--json', 'mode', 'livee'], ['help', 'mode', 'livee', '--json'], ['help', 'mode', '--json', 'livee']]) {
      const r = await run(...argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(JSON.parse(r.out), argv.join(' ')).toEqual({
        ok: false, error: "unknown command 'livee' for 'ctb mode' (Did you mean live?)", code: 'commander.unknownCommand',
        expected: 'one of: status, paper, live, history', suggestion: ['live'], exitCode: 2,
      });
    }
    // Deeper.
    expect((await run('help', 'oncall', 'bogus')).code).toBe(2);
    // A known subcommand's help is that subcommand's own help.
    const known = await run('help', 'mode', 'live');
    expect(known.code).toBe(0);
    expect(known.out).toContain('Usage: ctb mode live');
    const alone = await run('help', 'mode');
    expect(alone.code).toBe(0);
    expect(alone.out).toContain('Usage: ctb mode');
  });

  it('ctb help <command> with what one would type after it shows that command\'s help, never calling an option\'s value a command', async () => {
    const withOption = await run('help', 'stats', '--period', '7d');
    expect(withOption.code).toBe(0);
    expect(withOption.out).toContain('Usage: ctb stats');
    expect(withOption.err).toBe('');
    expect((await run('help', 'stats', '--period=7d')).out).toContain('Usage: ctb stats');
    // Words under a command without subcommands are its arguments: its help, and they are named as ignored.
    const leaf = await run('help', 'stats', '7d');
    expect(leaf.code).toBe(0);
    expect(leaf.out).toContain('Usage: ctb stats');
    expect(leaf.err).toBe('ctb help takes a command name: showing the help of ctb stats; ignored: 7d\n');
    const deeper = await run('help', 'oncall', 'override', 'U1', '1h');
    expect(deeper.code).toBe(0);
    expect(deeper.out).toContain('Usage: ctb oncall override');
    expect(deeper.err).toBe('ctb help takes a command name: showing the help of ctb oncall override; ignored: U1 1h\n');
  });

  it("names the terminal's commands for Slack's /golive", async () => {
    const r = await run('golive', 'audit');
    expect(r.code).toBe(2);
    expect(r.err).toContain("unknown command 'golive' (/golive is Slack's; in the terminal: ctb audit for /golive audit, ctb mode status for /golive status, ctb runbook go-live for /golive help)");
    expect(JSON.parse((await run('golive', 'status', '--json')).out)).toMatchObject({ code: 'commander.unknownCommand', suggestion: ['audit', 'mode', 'runbook'], exitCode: 2 });
  });

  it.each([
    [['oncall', 'override', 'U1', '-2h'], '-2h', '2h', 'ctb oncall override'],
    [['alerts', 'silence', '3', '-30m'], '-30m', '30m', 'ctb alerts silence'],
    [['stats', '-7d'], '-7d', '7d', 'ctb stats'],
  ])('%j: a negative duration is called one, not an unknown option', async (argv, word, positive, command) => {
    const r = await run(...argv);
    expect(r.code).toBe(2);
    expect(r.err).toBe(`error: '${word}' is not an option but a negative duration: a duration must be positive, e.g. ${positive}\n(run ${command} --help for its usage and options)\n`);
    expect(JSON.parse((await run(...argv, '--json')).out)).toMatchObject({ code: 'commander.invalidArgument', expected: `a positive duration such as ${positive}`, suggestion: [positive] });
  });

  it.each([['abc'], ['1.5'], ['6m'], ['-5'], ['1500ms']])('ctb exit 1 --wait %s: says what --wait takes (a duration such as 90s or 2m), nothing sent', async (wait) => {
    const r = await run('exit', '1', '--yes', '--wait', wait);
    expect(r.code).toBe(2);
    expect(r.err).toBe(`error: --wait: expected how long to wait for the engine's answer, 0 to 5m in whole seconds: a duration such as 90s or 2m, or seconds such as 30; got "${wait}".\n(run ctb exit --help for its usage and options)\n`);
    expect(r.err).not.toMatch(/Invalid input|NaN|waitSeconds/);
    expect(JSON.parse((await run('exit', '1', '--wait', wait, '--json')).out)).toMatchObject({ ok: false, code: 'bad_wait', exitCode: 2 });
  });

  it('ctb exit --wait takes a duration as every other option does, and whole seconds as before', () => {
    expect([['2m'], ['90s'], ['1m30s'], ['30'], ['0'], ['0s'], ['5m'], ['300']].map(([w]) => waitSecondsOf(w!))).toEqual([120, 90, 90, 30, 0, 0, 300, 300]);
  });

  it('still calls a dash word that is no duration an unknown option', async () => {
    expect((await run('oncall', 'override', 'U1', '-x')).err).toMatch(/^error: unknown option '-x'\n/);
  });

  it('says nothing like "too many arguments" for a mistyped subcommand', async () => {
    expect((await run('mode', 'livee')).err).not.toMatch(/too many arguments/);
  });

  it('with --json prints one JSON object naming the error and what was expected', async () => {
    const typo = await run('mode', 'livee', '--json');
    expect(typo.code).toBe(2);
    expect(JSON.parse(typo.out)).toEqual({
      ok: false, error: "unknown command 'livee' for 'ctb mode' (Did you mean live?)", code: 'commander.unknownCommand',
      expected: 'one of: status, paper, live, history', suggestion: ['live'], exitCode: 2,
    });
    const choice = await run('alerts', 'test', '--json', '--severity', 'nope');
    expect(JSON.parse(choice.out)).toMatchObject({ ok: false, code: 'commander.invalidArgument', expected: 'one of: info, warning, critical', suggestion: [] });
    const option = await run('trades', '--json', '--closd', '5');
    expect(JSON.parse(option.out)).toMatchObject({ code: 'commander.unknownOption', suggestion: ['--closed'], expected: expect.stringContaining('--closed') });
    const missing = await run('exit', '--json');
    expect(JSON.parse(missing.out)).toMatchObject({ code: 'commander.missingArgument', expected: 'ctb exit [options] <trade-id|all>' });
  });

  it('a bad value a command refuses comes as JSON too with --json', async () => {
    const r = await run('check-logs', '1h', '--period', '2h', '--json');
    expect(r.code).toBe(2);
    expect(JSON.parse(r.out)).toMatchObject({ ok: false, code: 'period_twice', error: expect.stringContaining('two different periods'), exitCode: 2 });
  });

  it('a command that takes --json answers any failure with one JSON object on stdout', async () => {
    const json = async (argv: string[], env: Record<string, string>) => {
      const io = recordingIo(env);
      const code = await runCli(argv, io);
      expect(code, `${argv.join(' ')}: ${io.err()}`).not.toBe(0);
      return JSON.parse(io.out()) as Record<string, unknown>;
    };
    // A configuration it refuses, before anything runs.
    for (const argv of [['self-heal', '--json']]) {
      expect(await json(argv, { PORT: 'eighty' }), argv[0]).toMatchObject({ ok: false, code: 'config', error: expect.stringContaining('PORT'), exitCode: 2 });
    }
    // A usage error found by the command itself.
    expect(await json(['stats', '--chart', 'equity.txt', '--json'], {})).toMatchObject({ ok: false, code: 'bad_chart_file', expected: 'a file name ending in .png', exitCode: 2 });
    // A database that does not answer (nothing listens on port 1).
    const down = { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none' };
    for (const argv of [['stats', '--json'], ['stats', '--chart', 'equity.png', '--json'], ['reconcile', '--json']]) {
      expect(await json(argv, down), argv.join(' ')).toMatchObject({ ok: false, error: expect.stringContaining('127.0.0.1:1') });
    }
  });

  it('the real binary suggests and prints JSON errors the same way', async () => {
    const exec = (...argv: string[]) =>
      promisify(execFile)(process.execPath, [BIN, ...argv], { env: { PATH: process.env.PATH ?? '', DATA_DIR: '/nonexistent-ctb' } }).then(
        (r) => ({ code: 0, ...r }),
        (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
      );
    const [text, json] = await Promise.all([exec('mode', 'livee'), exec('stats', '--json', '--perod', '7d')]);
    expect(text.code).toBe(2);
    expect(text.stderr).toContain("error: unknown command 'livee' for 'ctb mode' (Did you mean live?)");
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, error: "unknown option '--perod' (Did you mean --period?)", suggestion: ['--period'] });
  }, 60_000);
});
