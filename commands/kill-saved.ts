// `ctb kill saved`: the kills saved in DATA_DIR while their database did not take them, and dropping
// one that will never be written (services/kill/discard-saved-kill.ts). Read from DATA_DIR alone: the
// database, when it answers, says which server it is (a saved kill that recorded its server is
// compared by it) and takes the discard's trail row (the command log); a discard is also a line in
// LOG_DIR, whether the database answers or not. Not a runCommand command: the discard must work
// while no database answers (the one it was aimed at is gone), so it opens none itself.
import type { Actor } from '../src/domain/actor.js';
import type { Config } from '../src/config/env.js';
import type { Db } from '../src/db/client.js';
import { insertCommandLog } from '../src/db/queries/command-log.js';
import { AppError } from '../src/errors.js';
import type { Logger } from '../src/logger.js';
import { getBotState } from '../src/services/bot-state.js';
import { learnServerIdentity } from '../src/services/kill/database-identity.js';
import { describeError, withDeadline } from '../src/services/kill/deadline.js';
import { discardSavedKill, listSavedKills, type DiscardedKill, type SavedKills } from '../src/services/kill/discard-saved-kill.js';

export interface KillSavedDeps {
  config: Config;
  /** The configured database when it could be opened (undefined: none, or the embedded one no bot has used). */
  db: Db | undefined;
  logger: Logger;
  actor: Actor;
}

export type SavedKillsResult = SavedKills & { ok: true };

export type DiscardResult = DiscardedKill & {
  /** "written", or why the command log did not take the row. */
  commandLog: string;
  /**
   * Whether this configuration's database records the bot halted (null: not known, it did not
   * answer). Not halted, a bot that latched the dropped kill stays halted only until it restarts.
   */
  haltedHere: boolean | null;
};

const COMMAND = 'kill saved';

async function ourServer(deps: KillSavedDeps) {
  return deps.db ? learnServerIdentity({ db: deps.db, config: deps.config }) : undefined;
}

export async function listSaved(deps: KillSavedDeps): Promise<SavedKillsResult> {
  return { ok: true, ...listSavedKills(deps.config, await ourServer(deps)) };
}

export async function discardSaved(deps: KillSavedDeps, args: { killId: string; reason: string }): Promise<DiscardResult> {
  const argsText = JSON.stringify({ discard: args.killId, reason: args.reason });
  let discarded: DiscardedKill;
  try {
    discarded = await discardSavedKill(deps.config, { killId: args.killId, reason: args.reason, by: deps.actor.id, ourServer: await ourServer(deps) });
  } catch (err) {
    const result = err instanceof AppError ? `${err.code}: ${err.message}` : 'internal error';
    await trail(deps, argsText, result, {}).catch(() => undefined);
    throw err;
  }
  const k = discarded.discarded;
  deps.logger.warn({
    killId: k.killId, discardReason: discarded.discardReason, by: deps.actor.id, aimedAt: k.target, aimedAtServer: k.server, savedAt: k.at, savedBy: k.actor, savedReason: k.reason,
    file: discarded.file, thisDatabase: discarded.thisDatabase,
  }, `saved kill ${k.killId} discarded by ${deps.actor.id}: ${discarded.discardReason} — its write to ${k.target ?? 'the database'} is forgotten; nothing was cancelled less and no halt was lifted`);
  const commandLog = await trail(deps, argsText, 'ok', { discarded: k, discardReason: discarded.discardReason })
    .then(() => 'written', (err: unknown) => describeError(err));
  if (commandLog !== 'written') deps.logger.error({ killId: k.killId, error: commandLog }, 'the discarded saved kill is not in the command log: LOG_DIR holds its record');
  const haltedHere = deps.db
    ? await withDeadline(getBotState(deps.db), deps.config.KILL_DB_TIMEOUT, 'the database (bot_state)').then((state) => state.halted, () => null) : null;
  return { ...discarded, commandLog, haltedHere };
}

/** The command log's row, when a database is open, within the database's deadline. */
async function trail(deps: KillSavedDeps, args: string, result: string, details: Record<string, unknown>): Promise<void> {
  if (!deps.db) throw new Error('no database is open here');
  await withDeadline(insertCommandLog(deps.db, {
    at: new Date(), source: deps.actor.source, actor: deps.actor.id, command: COMMAND, args, allowed: true, result, details,
  }), deps.config.KILL_DB_TIMEOUT, 'the database (command log)');
}
