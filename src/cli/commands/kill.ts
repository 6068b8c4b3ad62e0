// `ctb kill [--reason …] [--flatten]`. Unlike other commands it does not migrate or wait for the
// database before acting: with a Kraken key (armed or not: cancelling needs no arming) it sends
// Kraken's CancelAll before the database is even opened, then runs the full kill (confirm, halt,
// incident), which saves the halt to DATA_DIR if the database is down. Without a key the kill hands
// the cancel to the running bot that has it (saying it looks for one while it does, then what
// became of the cancel). With the key it says as soon as the halt is in the database that it is
// now cancelling on Kraken — in an embedded database only once an engine is known to have run on it,
// never for one no bot has used; when the database failed to take the halt, it says so as soon as it
// knows, and where the halt is saved instead (DATA_DIR's pending-kill file). Stopped (SIGINT, SIGTERM)
// before it answers, it says what is true then (the halt if recorded, where it is saved if the
// database has not taken it, or that it halted no bot; Kraken's orders not confirmed cancelled; what
// to run) and exits 130 or 143. Once it has answered, the Kraken calls its deadlines gave up on
// are abandoned (their sockets closed): the process ends then, not when their own timeouts would.
// A kill that fails before it answers (the embedded database held by another process, say) waits for
// its cancel on Kraken for one call's deadline and says what became of it before it exits non-zero.
// A configuration with problems does
// not stop it: settings the kill does not need fall back to their defaults (the problems are printed
// first), only a bad DATABASE_URL or DATA_DIR — where the halt goes — cannot be worked around. Exit 0
// only when every venue confirmed zero open orders; 2 when the database cannot be used as configured,
// and when the embedded database at DATA_DIR is one no bot has used (ctb kill run outside the bot's
// directory): none is created, Kraken is still cancelled and confirmed with the key (the kill's own
// rounds: nobody is there to hand an unconfirmed cancel on to), and no halt is claimed.
// Only what the early cancel needs is imported with this module; the database layer, the kill
// service and its rendering are imported once Kraken's CancelAll is on its way, so a cold shell's
// cancel waits for none of them.
import { join, resolve } from 'node:path';
import type { OwnedContext } from '../../app/build-context.js';
import { embeddedDatabaseExists } from '../../app/embedded-database.js';
import type { Exchange } from '../../exchange/types.js';
import { createLogger, type Logger } from '../../logger.js';
import { cancelAndCountWithin, krakenFailure, krakenForCancelOnly, krakenWithEarlyCancel, type BoundedCancel } from '../../services/kill/early-cancel.js';
import type { HaltRecorded, HaltSaved } from '../../services/kill/runtime.js';
import type { VenueCancelReport } from '../../services/kill/cancel-everywhere.js';
import { databaseFailure, localHaltText, savedHaltReach } from '../../domain/local-halt.js';
import { cancelledPhrase, confirmedClearPhrase, lostAnswersPhrase } from '../../domain/kraken-handoff.js';
import type { CliRegistration } from '../program.js';
import { ConfigError, type Config } from '../../config/env.js';
import { envLayers, settingNameNotices } from '../../config/load.js';
import { salvageConfigForKill } from '../../config/salvage.js';
import type { CliIo } from '../io.js';
import { cliActor, printError } from '../with-context.js';

/** "; IS_LIVE falls back to its default", "; IS_LIVE and PORT fall back to their defaults". */
function fallBack(dropped: string[]): string {
  if (dropped.length === 0) return '';
  if (dropped.length === 1) return `; ${dropped[0]} falls back to its default`;
  return `; ${dropped.slice(0, -1).join(', ')} and ${dropped.at(-1)} fall back to their defaults`;
}

/** What the kill prints before it goes on with a configuration that has problems. */
export function invalidConfigNotice(dropped: string[], problems: string[]): string {
  const fix = (dropped.length || problems.length) === 1 ? 'fix it' : 'fix them';
  return `Invalid configuration (the kill goes on${fallBack(dropped)} — ${fix} before the bot starts again):\n${problems.map((p) => `  - ${p}`).join('\n')}\n`;
}

/** The kill's configuration: problems a kill can work around are printed and their defaults used. */
function loadKillConfig(io: CliIo): { config: Config } | { problem: ConfigError; layers: Record<string, string | undefined> } {
  const layers = envLayers(io.env, join(io.cwd, '.env'), (problems) =>
    io.stderr.write(`Malformed .env lines (the kill goes on without them — fix them before the bot starts again):\n${problems.map((p) => `  - ${p}`).join('\n')}\n`));
  // A misspelt setting (RISK_MAX_DRAWDOWN for RISK_MAX_DRAWDOWN_PCT) refuses every other command; the
  // kill goes on, and says so rather than say nothing.
  const names = settingNameNotices(io.env, join(io.cwd, '.env'));
  if (names.length > 0) io.stderr.write(`Names that are not settings of this bot (the kill goes on without them — fix them before the bot starts again):\n${names.map((p) => `  - ${p}`).join('\n')}\n`);
  try {
    const { config, problems, dropped } = salvageConfigForKill(layers);
    if (problems.length > 0) io.stderr.write(invalidConfigNotice(dropped, problems));
    return { config };
  } catch (err) {
    if (err instanceof ConfigError) return { problem: err, layers };
    throw err;
  }
}

/**
 * Where the halt goes is unreadable (DATABASE_URL or DATA_DIR): the halt cannot be recorded, but with
 * a key the orders on Kraken are still cancelled and confirmed. Always exit 2.
 */
async function cancelOnlyOnKraken(io: CliIo, problem: ConfigError, read: Record<string, string | undefined>, json: boolean): Promise<number> {
  io.stderr.write(`${problem.message}\nThe halt CANNOT be recorded (the kill cannot tell which database the bot reads). See .env.example.\n`);
  let config: Config;
  try {
    const { DATABASE_URL: _url, DATA_DIR: _dir, ...layers } = read;
    config = salvageConfigForKill(layers).config;
  } catch {
    return 2;
  }
  const answer = (text: string, kraken: Record<string, unknown>) => io.stdout.write(json
    ? `${JSON.stringify({ ok: false, code: 'database_setting_unusable', exitCode: 2, halted: false, error: problem.message, kraken }, null, 2)}\n`
    : `${text}\n`);
  if (!config.KRAKEN_API_KEY || !config.KRAKEN_API_SECRET) {
    answer('NOT KILLED — no Kraken key here and no database to hand the cancel to: orders may remain open on Kraken.', { cancelled: false, reason: 'no Kraken key' });
    return 2;
  }
  const logger = createLogger({ config, stdout: false, destination: process.stderr, destinationIsCommandStderr: true, destinationLevel: 'warn' });
  // Aborted once answered: a call the rounds gave up on no longer keeps the shell waiting.
  const abandon = new AbortController();
  try {
    const [{ cancelOnKrakenAlone }, { venueOutcome }] = await Promise.all([
      import('../../services/kill/cancel-on-kraken-alone.js'),
      import('../render/kill.js'),
    ]);
    let kraken: Exchange;
    try {
      kraken = krakenForCancelOnly(config, logger, abandon.signal);
    } catch (err) {
      const why = krakenFailure(err, config);
      answer(`NOT KILLED — nothing was sent to Kraken: its client could not be built (${why}). Orders may remain open on Kraken.`, { cancelled: false, reason: `its client could not be built (${why})` });
      return 2;
    }
    // Nobody to hand an unconfirmed cancel on to: the kill's own rounds, saying while they run what is
    // slow — and, stopped meanwhile, what is true then (no halt recorded, Kraken not confirmed).
    const report = await roundsFromThisShell(io, json, whenStopped(io, interruptedCancelOnlyText), (progress) => cancelOnKrakenAlone(kraken, config, logger, { progress }));
    const outcome = venueOutcome(report).replace(/\.$/, '');
    answer(report.confirmed
      ? `NOT HALTED — Kraken: ${outcome}; the bot may place new ones until the halt is recorded.`
      : `NOT KILLED — Kraken: ${outcome}. Orders may remain open on Kraken, and the bot may place new ones.`, krakenJson(report));
  } finally {
    abandon.abort();
  }
  return 2;
}

/**
 * What a kill says when the database it reached is one no bot has used (DATA_DIR of another directory
 * than the bot's): it halted no bot, and the bot that runs elsewhere goes on trading.
 */
export function noBotDatabaseText(dataDir: string, cwd: string, wrote: boolean): string {
  const where = `DATA_DIR ${dataDir} (from ${cwd})`;
  // With a database no engine has used yet, a bot starting on it (not yet heartbeating) will read the
  // halt: only what was checked is said — no engine ran there, so a bot running elsewhere is not halted.
  if (wrote) {
    return `NO BOT HALTED — no engine has ever run on the embedded database in ${where}: the halt was written there, and only a bot that starts with this DATA_DIR will read it. `
      + "A bot running with another DATA_DIR or DATABASE_URL is NOT halted and keeps trading: run ctb kill with that bot's DATA_DIR (or DATABASE_URL).";
  }
  return `NO BOT HALTED — no bot has used ${where}: there is no embedded database there, so this kill recorded no halt and created none. `
    + "The running bot (if any) is NOT halted and keeps trading: run ctb kill with the bot's DATA_DIR (or DATABASE_URL).";
}

/** What became of a shell's own cancel on Kraken, as a line of its reply. */
export function krakenCancelLine(cancel: BoundedCancel): string {
  if ('unansweredMs' in cancel) {
    return `Kraken: the CancelAll did not answer within ${cancel.unansweredMs / 1000} s — whether it cancelled anything is unknown: orders may remain open on Kraken. Run ctb kill again, or cancel in Kraken's UI.`;
  }
  if ('error' in cancel) return `Kraken: the cancel failed — ${cancel.error}. Orders may remain open on Kraken.`;
  const lost = cancel.earlierAnswerLost ? [1] : undefined;
  const cancelled = lost ? cancelledPhrase({ canceled: cancel.canceled, lostAnswers: lost }) : `${cancel.canceled} order(s) cancelled`;
  if (cancel.open === null) {
    return `Kraken: ${cancelled}${lost ? ` (${lostAnswersPhrase(lost)})` : ''}, but zero open orders NOT CONFIRMED (the confirming look did not answer in time): orders may remain open on Kraken.`;
  }
  if (cancel.open === 0) return lost ? `Kraken: ${confirmedClearPhrase({ canceled: cancel.canceled, lostAnswers: lost })}.` : `Kraken: ${cancelled}, none open (confirmed).`;
  return `Kraken: ${cancelled}${lost ? ` (${lostAnswersPhrase(lost)})` : ''}, but ${cancel.open} still open (NOT CONFIRMED): orders may remain open on Kraken.`;
}

/**
 * The embedded database at DATA_DIR does not exist: no bot has used it, so there is no bot to halt
 * through it and none to hand a cancel to; making an empty one would only hide that. With a key the
 * orders on Kraken are still cancelled and confirmed, in the kill's own rounds (nobody goes on with
 * what they leave unconfirmed): the early cancel's answer is their first CancelAll. Always exit 2.
 */
async function killWithoutBotDatabase(
  io: CliIo, config: Config, logger: Logger, kraken: Exchange | { unbuilt: string } | undefined, dataDir: string, json: boolean,
): Promise<number> {
  const head = noBotDatabaseText(dataDir, io.cwd, false);
  if (!kraken || 'unbuilt' in kraken) {
    // A key is set but its client could not be built: said as that, not as "no Kraken key".
    const reason = kraken ? `its client could not be built (${kraken.unbuilt})` : 'no Kraken key';
    const why = kraken ? `nothing was sent to Kraken: ${reason}` : 'this process has no Kraken key';
    const krakenLine = `Kraken: nothing cancelled — ${why}, and without the bot's database there is no bot to hand the cancel to: orders may remain open on Kraken.`;
    io.stdout.write(json
      ? `${JSON.stringify({ ok: false, code: 'no_bot_database', exitCode: 2, halted: false, dataDir, error: head, kraken: { cancelled: false, reason } }, null, 2)}\n`
      : `${head}\n${krakenLine}\n`);
    return 2;
  }
  const [{ cancelOnKrakenAlone }, { venueOutcome }] = await Promise.all([
    import('../../services/kill/cancel-on-kraken-alone.js'),
    import('../render/kill.js'),
  ]);
  // The rounds may take KILL_CONFIRM_WAIT and more: stopped meanwhile, it says what is true then.
  const stopWatching = sayWhatIsTrueIfStopped(io, { halt: null, noBotWhere: { dataDir, cwd: io.cwd, noDatabase: true } }, true);
  // While Kraken is slow: a line for each call that missed its deadline, as the kill with a database says them.
  const report = await roundsFromThisShell(io, json, stopWatching, (progress) => cancelOnKrakenAlone(kraken, config, logger, { progress }));
  if (json) {
    io.stdout.write(`${JSON.stringify({ ok: false, code: 'no_bot_database', exitCode: 2, halted: false, dataDir, error: head, kraken: krakenJson(report) }, null, 2)}\n`);
  } else {
    const outcome = venueOutcome(report).replace(/\.$/, '');
    io.stdout.write(`${head}\nKraken: ${outcome}${report.confirmed ? '.' : '. Orders may remain open on Kraken.'}\n`);
  }
  return 2;
}

/**
 * Kraken's rounds as --json says them, with how many are open: known only from an open-orders answer
 * with no cancel after it that may have run (confirmed none, or the ones it still lists); else null.
 */
function krakenJson(report: VenueCancelReport): Record<string, unknown> {
  const { venue: _venue, ...kept } = report;
  return { ...kept, open: report.confirmed || report.survivors.length > 0 ? report.survivors.length : null };
}

/**
 * Said (stderr) as soon as the halt is in the database, by a kill that cancels on Kraken itself: its
 * cancel and confirmation may take many seconds more when Kraken does not answer.
 */
export function haltRecordedNotice(halt: HaltRecorded): string {
  return `Halted: trading is halted in paper mode and the halt is recorded in the database (incident #${halt.incidentId}${halt.joined ? ', already open' : ''}). `
    + 'Now cancelling every open order on Kraken and confirming none is left; the result follows. Stopping this command now does not undo the halt.';
}

/**
 * Said (stderr) as soon as the database failed to take the halt, by a kill that cancels on Kraken
 * itself: where the halt is kept instead, while its cancel and confirmation go on.
 */
export function haltSavedNotice(saved: HaltSaved & { database: NonNullable<HaltSaved['database']> }): string {
  return `${saved.database.timedOut ? 'Halt not confirmed in the database' : 'Halt NOT in the database'}: ${localHaltText(saved.file, saved.database.error, saved.database.configProblem, saved.database.timedOut, saved.target)} `
    + 'Now cancelling every open order on Kraken and confirming none is left; the result follows. Stopping this command now does not undo the saved halt.';
}

/**
 * Where a kill that halted no bot ran: DATA_DIR and the directory it was read from; `noDatabase`: there
 * was no embedded database there (none made, no halt written), rather than one no engine has run on.
 */
export interface NoBotWhere {
  dataDir: string;
  cwd: string;
  noDatabase?: boolean;
}

/**
 * What is true when a kill is stopped (SIGINT, SIGTERM) before it answered: the halt as far as it is
 * known to be recorded — or, the database not having taken it, where it is saved and what writes it
 * there —, Kraken's orders never confirmed (its answer was not in), and what to run.
 */
export function interruptedKillText(signal: NodeJS.Signals, halt: HaltRecorded | null, keyHere: boolean, noBotWhere?: NoBotWhere, saved?: HaltSaved): string {
  const again = keyHere ? '`ctb kill` again' : '`ctb kill` again where the Kraken key is';
  const lines = [`INTERRUPTED (${signal}) before the kill answered:`];
  if (noBotWhere) {
    // No embedded database there (none was made), or the halt went to one no engine has ever run on: it halted no bot.
    lines.push(noBotWhere.noDatabase
      ? `  Halt: NO BOT HALTED — there is no embedded database in DATA_DIR ${noBotWhere.dataDir} (from ${noBotWhere.cwd}): this kill recorded no halt and created none; `
        + 'the running bot (if any) is NOT halted and keeps trading.'
      : `  Halt: NO BOT HALTED — the halt was written to the embedded database in DATA_DIR ${noBotWhere.dataDir} (from ${noBotWhere.cwd}), on which no engine has ever run: `
        + 'a bot running with another DATA_DIR or DATABASE_URL is NOT halted and keeps trading.');
    lines.push('  Orders on Kraken: NOT CONFIRMED cancelled — the kill was stopped before zero open orders were confirmed: orders may remain open on Kraken.');
    lines.push(`  Next: run ctb kill with the bot's DATA_DIR (or DATABASE_URL)${keyHere ? '' : ' where the Kraken key is'}, or cancel in Kraken's UI.`);
    return `${lines.join('\n')}\n`;
  }
  if (!halt && saved) {
    // The database has not taken the halt (down, slow or unusable): `ctb mode status` cannot say it yet.
    const configProblem = saved.database?.configProblem ?? false;
    const db = saved.target ? `the database (${saved.target})` : 'the database';
    lines.push(saved.database?.timedOut
      ? `  Halt: not confirmed in ${db} — it did not answer in time (${saved.database.error.replace(/\.$/, '')}) and the write may still land; the halt is saved in DATA_DIR, in ${saved.file}.`
      : saved.database
      ? `  Halt: NOT in ${db} — it ${databaseFailure(configProblem)} (${saved.database.error.replace(/\.$/, '')}); the halt is saved only in DATA_DIR, in ${saved.file}.`
      : `  Halt: NOT CONFIRMED in ${db} — the kill was stopped before the database answered; the halt is saved in DATA_DIR, in ${saved.file}.`);
    lines.push(`  ${savedHaltReach(configProblem)} Stopping the command does not undo the saved halt.`);
    lines.push('  Orders on Kraken: NOT CONFIRMED cancelled — the kill was stopped before zero open orders were confirmed: orders may remain open on Kraken.');
    lines.push(`  Next: run ${again}, or cancel in Kraken's UI. Once the database ${configProblem ? 'can be used' : 'answers'}, \`ctb self-heal\` (or the bot's next start) writes the saved halt to it, and \`ctb mode status\` shows it.`);
    return `${lines.join('\n')}\n`;
  }
  if (halt) {
    lines.push(`  Halt: yes — trading is halted in paper mode and recorded in the database (incident #${halt.incidentId}); stopping the command does not undo it.`);
  } else {
    lines.push('  Halt: NOT CONFIRMED — the kill was stopped before the database confirmed the halt: `ctb mode status` shows whether trading is halted.');
  }
  lines.push('  Orders on Kraken: NOT CONFIRMED cancelled — the kill was stopped before zero open orders were confirmed: orders may remain open on Kraken.');
  lines.push(halt
    ? `  Next: run ${again} (it joins incident #${halt.incidentId} and cancels again), or cancel in Kraken's UI; \`ctb incident\` shows the checklist.`
    : `  Next: run ${again}, or cancel in Kraken's UI.`);
  return `${lines.join('\n')}\n`;
}

/**
 * What is true when a kill whose DATABASE_URL or DATA_DIR cannot be used is stopped during its rounds
 * on Kraken: it recorded no halt anywhere (it cannot tell which database the bot reads), and Kraken's
 * orders were never confirmed cancelled.
 */
export function interruptedCancelOnlyText(signal: NodeJS.Signals): string {
  return [
    `INTERRUPTED (${signal}) before the kill answered:`,
    '  Halt: NOT RECORDED — DATABASE_URL or DATA_DIR cannot be used, so the kill cannot tell which database the bot reads: the running bot (if any) is NOT halted and keeps trading.',
    '  Orders on Kraken: NOT CONFIRMED cancelled — the kill was stopped before zero open orders were confirmed: orders may remain open on Kraken.',
    "  Next: fix DATABASE_URL or DATA_DIR (see .env.example) and run `ctb kill` again, or cancel in Kraken's UI.",
  ].join('\n') + '\n';
}

/**
 * What the kill knows while it runs: the halt once it is recorded where a bot reads it, or where it
 * was written when that is an embedded database no engine has ever run on (then no bot is halted).
 */
interface KillProgress {
  halt: HaltRecorded | null;
  noBotWhere?: NoBotWhere;
  /** Saved in DATA_DIR while the database has not taken it (and what the database did, once known). */
  saved?: HaltSaved;
}

/** Exit status of a process ended by `signal` (128 + its number), as a shell reports it. */
const SIGNAL_EXIT: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 130, SIGTERM: 143 };

/**
 * The kill's own Kraken rounds run from this shell, with nobody to hand them to: a line on stderr for
 * each call that missed its deadline (not with --json, whose stdout is one object), and
 * `stopWatching` (what a Ctrl-C meanwhile says) ended once they are over.
 */
async function roundsFromThisShell(
  io: CliIo, json: boolean, stopWatching: () => void, rounds: (progress: (line: string) => void) => Promise<VenueCancelReport>,
): Promise<VenueCancelReport> {
  try {
    return await rounds((line) => {
      if (!json) io.stderr.write(`${line}\n`);
    });
  } finally {
    stopWatching();
  }
}

/**
 * While the kill runs, SIGINT and SIGTERM print what is true then and exit non-zero (without a
 * handler Node exits at once and silently, though the halt may be recorded). Returns the remover.
 */
function sayWhatIsTrueIfStopped(io: CliIo, state: KillProgress, keyHere: boolean): () => void {
  return whenStopped(io, (signal) => interruptedKillText(signal, state.halt, keyHere, state.noBotWhere, state.saved));
}

/** SIGINT and SIGTERM print `text` (read when the signal comes) and exit 130 or 143. Returns the remover. */
function whenStopped(io: CliIo, text: (signal: NodeJS.Signals) => string): () => void {
  const handlers = (['SIGINT', 'SIGTERM'] as const).map((signal) => {
    const handler = () => {
      io.stderr.write(text(signal));
      process.exit(SIGNAL_EXIT[signal]);
    };
    process.once(signal, handler);
    return () => process.off(signal, handler);
  });
  return () => handlers.forEach((off) => off());
}

/**
 * After a kill that failed before it answered: the cancel on Kraken (the early one, or one sent again),
 * waited on for one call's deadline, and a line saying what became of it — on stderr with --json, whose
 * stdout holds the error object.
 */
async function sayKrakenAfterFailure(io: CliIo, kraken: Exchange, config: Config, json: boolean): Promise<void> {
  const line = await krakenAfterFailure(kraken, config);
  (json ? io.stderr : io.stdout).write(`${line}\n`);
}

const krakenAfterFailure = async (kraken: Exchange, config: Config): Promise<string> => krakenCancelLine(await cancelAndCountWithin(kraken, config));

export const killCli: CliRegistration = {
  register(program, io, setExit) {
    const kill = program
      .command('kill')
      .description('EMERGENCY: cancel every open order (Kraken, and paper), halt in paper mode, open the incident checklist')
      .option('--reason <text>', 'why (shown in the alert and the incident)', '')
      .option('--flatten', 'also close open positions', false)
      .option('--json', 'machine-readable output', false)
      .action(async (opts: { reason: string; flatten: boolean; json: boolean }) => {
        const loaded = loadKillConfig(io);
        if ('problem' in loaded) return setExit(await cancelOnlyOnKraken(io, loaded.problem, loaded.layers, opts.json));
        const { config } = loaded;
        const logger = createLogger({ config, stdout: false, destination: process.stderr, destinationIsCommandStderr: true, destinationLevel: 'warn' });
        // Aborted once the kill has answered: a Kraken call its deadlines gave up on is given up for
        // good then, so its socket and ccxt's timeout no longer keep the shell waiting for the prompt.
        const abandonKraken = new AbortController();
        let kraken: Exchange | undefined;
        let unbuilt: string | undefined;
        try {
          kraken = krakenWithEarlyCancel(config, logger, abandonKraken.signal);
        } catch (err) {
          unbuilt = krakenFailure(err, config);
          logger.error({ err }, 'could not build the Kraken client for the early cancel');
        }
        // ccxt first (warm resolves once the early cancel's client is built; the market index it
        // then loads is what the kill's confirmation reads): the rest would compete with it for
        // this process's one thread.
        if (kraken) await kraken.warm?.().catch(() => {});
        // No embedded database at DATA_DIR yet: no bot has used it (ctb kill run outside the bot's directory).
        const dataDir = resolve(io.cwd, config.DATA_DIR);
        if (!config.DATABASE_URL && !embeddedDatabaseExists(dataDir)) {
          try {
            return setExit(await killWithoutBotDatabase(io, config, logger, kraken ?? (unbuilt !== undefined ? { unbuilt } : undefined), dataDir, opts.json));
          } finally {
            abandonKraken.abort();
          }
        }
        const [{ buildAppContext }, { runCommand }, { killCommand, NO_KEY_LOOKING }, { renderKill }, { engineEverRan }] = await Promise.all([
          import('../../app/build-context.js'),
          import('../../../commands/run-command.js'),
          import('../../../commands/kill.js'),
          import('../render/kill.js'),
          import('../../app/engine-ever-ran.js'),
        ]);
        // Said before anything else (the hand-over waits for the running bot's answer); only the
        // intent: the result's notice says what became of the cancel.
        if (!kraken && !opts.json) io.stdout.write(`${NO_KEY_LOOKING}\n`);
        // The halt once the database holds it: said at once by a kill with the key (its cancel may
        // take long yet), and said again by a kill stopped before it answered.
        const progress: KillProgress = { halt: null };
        const stopWatching = sayWhatIsTrueIfStopped(io, progress, kraken !== undefined);
        let ctx: OwnedContext | undefined;
        // With the embedded database, whether an engine has ever run on it (asked once the halt is
        // written there): a halt in a database no bot has used halts no bot, so it is not said.
        let botRan: Promise<boolean> | undefined;
        try {
          ctx = await buildAppContext({ config, logger, runMigrations: false, oneShot: true, ...(kraken ? { exchanges: { kraken: () => kraken! } } : {}) });
          const db = ctx.db;
          const sayHalted = (halt: HaltRecorded) => {
            progress.halt = halt;
            if (kraken && !opts.json) io.stderr.write(`${haltRecordedNotice(halt)}\n`);
          };
          ctx.kill.onHaltSaved = (saved) => {
            progress.saved = saved;
            if (saved.database && kraken && !opts.json) io.stderr.write(`${haltSavedNotice({ ...saved, database: saved.database })}\n`);
          };
          // While Kraken is slow: a line for each call that missed its deadline, and when the answer comes unconfirmed.
          ctx.kill.onProgress = (line) => {
            if (kraken && !opts.json) io.stderr.write(`${line}\n`);
          };
          ctx.kill.onHaltRecorded = (halt) => {
            if (config.DATABASE_URL) return sayHalted(halt);
            // Asked without holding up the kill: its cancel and confirmation go on meanwhile.
            botRan = engineEverRan(db).catch(() => true);
            void botRan.then((ran) => {
              if (ran) sayHalted(halt);
              else progress.noBotWhere = { dataDir, cwd: io.cwd };
            });
          };
          const result = await runCommand(killCommand, ctx, cliActor(), { reason: opts.reason, flatten: opts.flatten });
          // An embedded database no engine has ever run on: the halt written there halts no bot.
          const noBot = !config.DATABASE_URL && result.state === 'written' && !(await (botRan ?? engineEverRan(db).catch(() => true)))
            ? noBotDatabaseText(dataDir, io.cwd, true) : undefined;
          io.stdout.write(opts.json
            ? `${JSON.stringify(noBot ? { ...result, ok: false, botHalted: false, error: noBot } : result, null, 2)}\n`
            : `${renderKill(result, noBot === undefined ? {} : { noBot })}\n`);
          // A database that cannot be used as configured is a configuration error (exit 2), as a
          // DATABASE_URL that cannot be read is here and as in every other command.
          if (result.stateConfigProblem) io.stderr.write(`error: ${result.stateConfigProblem}\n`);
          setExit(noBot ? 2 : result.ok ? 0 : result.stateConfigProblem ? 2 : 1);
        } catch (err) {
          // The kill failed before it could say what Kraken did (the database in use by another
          // process, say): the cancel sent at start is still on its way. Waited on for one call's
          // deadline — never abandoned unanswered and unsaid — and what became of it is said: after
          // the error in a terminal, in the error object (`kraken`) with --json.
          if (opts.json && kraken) {
            const line = await krakenAfterFailure(kraken, config);
            setExit(printError(io, err, config, true, { kraken: line }));
            io.stderr.write(`${line}\n`);
          } else {
            setExit(printError(io, err, config, opts.json));
            if (kraken) await sayKrakenAfterFailure(io, kraken, config, opts.json);
          }
        } finally {
          stopWatching();
          // Everything the kill persists (halt, saved kill, follow-up request, alert) is written by
          // now; the answer (or the failure and what Kraken did) is printed. What Kraken may still say
          // to a call given up on changes none of it.
          abandonKraken.abort();
          await ctx?.close().catch(() => {});
        }
      });
    // `ctb kill saved`: the kills saved in DATA_DIR, and dropping one that will never be written. Its
    // module is loaded only when it runs: the kill itself imports nothing for it.
    kill
      .command('saved')
      .description('list the kills saved in DATA_DIR while their database did not take them; --discard one aimed at a database that will never answer')
      .option('--discard <kill id>', 'forget this saved kill\'s pending database write (cancels nothing less, lifts no halt)')
      .option('--reason <text>', 'why it will never be written (required with --discard; logged and recorded)')
      .option('--json', 'machine-readable output', false)
      .action(async (opts: { discard?: string; reason?: string; json: boolean }) => {
        const { runKillSaved } = await import('./kill-saved.js');
        setExit(await runKillSaved(io, opts));
      });
  },
};
