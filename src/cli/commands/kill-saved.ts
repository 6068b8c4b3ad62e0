// `ctb kill saved [--discard <kill id> --reason "…"] [--json]`: lists the kills saved in DATA_DIR
// while their database did not take them, or drops one aimed at a database that will never answer
// (commands/kill-saved.ts). Exit 0 listed or dropped; 1 refused (still running, aimed at this
// database, the file unreadable); 2 bad input (no reason, an unknown id) or configuration.
import { resolve } from 'node:path';
import type { Database } from '../../db/client.js';
import type { DiscardResult, SavedKillsResult } from '../../../commands/kill-saved.js';
import type { SavedKillView } from '../../services/kill/discard-saved-kill.js';
import { embeddedDatabaseExists } from '../../app/embedded-database.js';
import { AppError } from '../../errors.js';
import { createLogger } from '../../logger.js';
import type { CliIo } from '../io.js';
import { cliActor, loadCliConfig, printError } from '../with-context.js';

export interface KillSavedOptions {
  discard?: string;
  reason?: string;
  json: boolean;
}

const server = (s: { systemIdentifier: string; database: string } | null) => (s ? ` (server ${s.systemIdentifier}, database ${s.database})` : '');

/**
 * How a kill whose server identity is not compared is matched: by name only, so the same server under
 * another name (a DNS alias, a standby promoted under another host name) does not write it, and said so.
 */
function byName(k: SavedKillView): string[] {
  if (k.decidedBy !== 'name') return [];
  return [k.server === null
    ? "      identity unknown: decided by name (the killing process never learned its database's server identity)"
    : "      decided by name: this database did not say which server it is now (its replay compares the servers)"];
}

function killLines(k: SavedKillView): string[] {
  const lines = [`  ${k.killId}  saved ${k.at} by ${k.actor}: ${JSON.stringify(k.reason)}`];
  if (k.runningIn) lines.push(`      still being written by its kill, running in ${k.runningIn}`);
  else if (k.aimedHere) {
    lines.push(`      aimed at ${k.target === null ? 'any database (saved by an older version)' : `this database${server(k.server)}`}: written once it answers (ctb self-heal writes it now)`, ...byName(k));
  } else {
    lines.push(`      aimed at ANOTHER database: ${k.target}${server(k.server)} — written only by a process on it`, ...byName(k));
    lines.push(`      will that database never answer again? ctb kill saved --discard ${k.killId} --reason "why"`);
  }
  if (k.databaseError) lines.push(`      that database said: ${k.databaseError}`);
  if (k.krakenFollowUp) lines.push('      its cancel on Kraken was not confirmed clear: writing it hands the cancel on to the bot with the key');
  return lines;
}

export function renderSavedKills(r: SavedKillsResult): string {
  if (r.kills.length === 0) return `No kill is saved in ${r.file}.`;
  return [
    `${r.kills.length} kill(s) saved in ${r.file} — this configuration's database: ${r.thisDatabase}${server(r.thisServer)}`,
    ...r.kills.flatMap(killLines),
    'Every process reading this DATA_DIR stays halted while a kill is saved here.',
  ].join('\n');
}

export function renderDiscarded(r: DiscardResult, logDir: string): string {
  const k = r.discarded;
  return [
    `DISCARDED the saved kill ${k.killId} (saved ${k.at} by ${k.actor}: ${JSON.stringify(k.reason)}), aimed at ${k.target}${server(k.server)}.`,
    `Reason: ${r.discardReason} — by ${r.by}.`,
    'Only its pending database write is forgotten: the cancels on Kraken it stood for were sent when it was made, nothing is cancelled less, and no halt is lifted.',
    r.haltedHere === true ? `This database (${r.thisDatabase}) records the bot halted: it stays halted until an operator resumes it (ctb resume).`
      : r.haltedHere === false ? `This database (${r.thisDatabase}) records NO halt: a running bot that read the saved kill stays halted only until it restarts, then trades. To keep it halted, run ctb kill --reason "…" (it records the halt here).`
      : `Whether this database (${r.thisDatabase}) records a halt is not known (it did not answer): if it records none, a running bot that read the saved kill stays halted only until it restarts. To keep it halted, run ctb kill --reason "…".`,
    `Recorded in ${resolve(logDir, 'system.log')}${r.commandLog === 'written' ? ' and in the command log (ctb audit-log --command kill).' : `; NOT in the command log: ${r.commandLog}.`}`,
    r.kills.length === 0 ? `No kill is saved in ${r.file} any more.` : `${r.kills.length} kill(s) still saved in ${r.file} (ctb kill saved lists them).`,
  ].join('\n');
}

export async function runKillSaved(io: CliIo, opts: KillSavedOptions): Promise<number> {
  if (opts.discard === undefined && opts.reason !== undefined) {
    return printError(io, new AppError('usage', 'reason_without_discard', '--reason goes with --discard: ctb kill saved --discard <kill id> --reason "why it will never be written".'), undefined, opts.json);
  }
  if (opts.discard !== undefined && opts.discard.trim() === '') {
    return printError(io, new AppError('usage', 'discard_without_id', '--discard: expected the id of a saved kill (ctb kill saved lists them).'), undefined, opts.json);
  }
  const config = loadCliConfig(io, opts.json);
  if (typeof config === 'number') return config;
  const logger = createLogger({ config, stdout: false, destination: process.stderr, destinationIsCommandStderr: true, destinationLevel: 'error' });
  let database: Database | undefined;
  try {
    const [{ listSaved, discardSaved }, { openConfiguredDatabase }] = await Promise.all([import('../../../commands/kill-saved.js'), import('../../app/open-database.js')]);
    // The database when there is one to open: never an embedded one no bot has used (none is created
    // here), and a PostgreSQL that does not answer only costs its deadline.
    const dataDir = resolve(io.cwd, config.DATA_DIR);
    if (config.DATABASE_URL || embeddedDatabaseExists(dataDir)) {
      database = await openConfiguredDatabase(config, { migrate: false, oneShot: true }).catch((err: unknown) => {
        logger.warn({ err }, 'kill saved: the database could not be opened; DATA_DIR alone is read');
        return undefined;
      });
    }
    // DATA_DIR as an absolute path: the file named in the answer is the one read, wherever it is read from.
    const deps = { config: { ...config, DATA_DIR: dataDir }, db: database?.db, logger, actor: cliActor() };
    if (opts.discard === undefined) {
      const result = await listSaved(deps);
      io.stdout.write(opts.json ? `${JSON.stringify(result, null, 2)}\n` : `${renderSavedKills(result)}\n`);
      return 0;
    }
    const result = await discardSaved(deps, { killId: opts.discard.trim(), reason: opts.reason ?? '' });
    io.stdout.write(opts.json ? `${JSON.stringify(result, null, 2)}\n` : `${renderDiscarded(result, resolve(io.cwd, config.LOG_DIR))}\n`);
    return 0;
  } catch (err) {
    return printError(io, err, config, opts.json);
  } finally {
    await database?.close().catch(() => undefined);
  }
}
