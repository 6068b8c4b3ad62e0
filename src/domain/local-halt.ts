// Owns the words for a kill whose halt the database did not take: it is saved only in DATA_DIR's
// pending-kill file (services/kill/pending-kill.ts). Such a kill is never announced as "trading
// halted" or "switched to paper" as if the database held it: until the halt is written, only a
// process that reads that DATA_DIR is halted by it, and what writes it is named — a bot running with
// that DATA_DIR (its halt watcher, each poll) or the next `ctb start` with it (replay-pending.ts).
// When DATA_DIR could not be written either, the halt is saved nowhere and is said so, by who killed:
// a process that keeps running (the bot, its Slack app, POST /kill) stays halted by its own latch while
// it runs; `ctb kill` exits once it has answered, so it halts nothing here, and a running bot is not
// halted by it until the database holds the halt (its halt watcher then latches it within a poll).
// What the database did follows the kind of its error (db/connect-errors.ts): one that is down or slow
// "did not answer"; one that answered but cannot be used as configured (a database that does not
// exist, a login refused, a host unknown, a server that is not PostgreSQL) is not said to be silent.

/** What the database did, by its error's kind: `configProblem` when it cannot be used as configured. */
export function databaseFailure(configProblem: boolean): string {
  return configProblem ? 'could not be used as configured' : 'did not answer';
}

/** Said in a title or a headline where a written kill says "trading halted"; `timedOut`: its write was not answered in time and may still land. */
export function localHaltPhrase(configProblem: boolean, timedOut = false): string {
  return timedOut
    ? 'the halt is saved in DATA_DIR and not confirmed in the database (it did not answer in time; the write may still land): pending until it is confirmed written'
    : `the halt is saved only in DATA_DIR, NOT yet in the database (it ${databaseFailure(configProblem)}): pending until it is written`;
}

/**
 * What holds of the halt and what writes it, for the kill's reply: `where` names the file (the
 * terminal) or the host (Slack); `error` is what the database did; `timedOut` when the write was not
 * answered within the deadline: it may still land, so the halt is not said to be absent from the database.
 */
export function localHaltText(where: string, error: string, configProblem: boolean, timedOut = false, database?: string): string {
  const db = database ? `The database (${database})` : 'The database';
  return timedOut
    ? `${db} did not answer in time (${error}): the halt is saved in ${where} and not confirmed in the database (the write may still land). ${savedHaltReach(configProblem)}`
    : `${db} ${databaseFailure(configProblem)} (${error}): the halt is saved only in ${where}, NOT in the database. ${savedHaltReach(configProblem)}`;
}

/** Who a halt saved only in DATA_DIR halts, and what writes it to the database. */
export function savedHaltReach(configProblem: boolean): string {
  return 'Until it is written, only a process that reads that DATA_DIR is halted by it: a bot running with it latches the halt within a poll '
    + `and writes it to the database once the database ${configProblem ? 'can be used' : 'answers'}, as does the next \`ctb start\` with it. `
    + 'A process with another DATA_DIR, or on another host, does not see this halt until then.';
}

/**
 * Who killed: a process that keeps running (the bot, its Slack app, POST /kill, an auto-kill), halted
 * by its own latch while it runs, or `ctb kill`, which exits once it has answered and so halts nothing.
 */
export type Killer = 'running' | 'cli';

/** Who is halted by a halt neither the database nor DATA_DIR took, and until when; `timedOut` as for unsavedHaltPhrase. */
function unsavedReach(killer: Killer, timedOut: boolean, sentence: boolean): string {
  if (killer === 'cli') {
    return timedOut
      ? (sentence
        ? '`ctb kill` halts nothing once it exits: a running bot is not halted by this until the write lands (its halt watcher then latches the halt within a poll), nor at all if the write never lands.'
        : 'a running bot is not halted by this until the write lands (its halt watcher then latches it within a poll); `ctb kill` halts nothing once it exits')
      : (sentence
        ? '`ctb kill` halts nothing once it exits: no process sees this halt, so a running bot is not halted by it.'
        : 'a running bot is not halted by this; `ctb kill` halts nothing once it exits');
  }
  return timedOut
    ? (sentence ? 'Until the database holds it, only the process that killed is sure to be halted, and only while it runs.' : 'until it is, only the process that killed is sure to be halted, while it runs')
    : (sentence ? 'Only the process that killed is halted, and only while it runs; no other process sees this halt.' : 'only the process that killed is halted, while it runs');
}

/**
 * Said where a written kill says "trading halted", when neither the database nor DATA_DIR took the
 * halt; `timedOut`: the database's write was not answered in time and may still land; `killer`: who killed.
 */
export function unsavedHaltPhrase(configProblem: boolean, timedOut = false, killer: Killer = 'running'): string {
  return timedOut
    ? `the halt is NOT saved in DATA_DIR (it could not be written) and not confirmed in the database (it did not answer in time; the write may still land): ${unsavedReach(killer, true, false)}`
    : `the halt is NOT saved (the database ${databaseFailure(configProblem)} and DATA_DIR could not be written): ${unsavedReach(killer, false, false)}`;
}

/** What holds of a halt DATA_DIR did not take, for the kill's reply; `timedOut` and `killer` as for unsavedHaltPhrase. */
export function unsavedHaltText(error: string, saveError: string, configProblem: boolean, timedOut = false, killer: Killer = 'running'): string {
  return timedOut
    ? `The database did not answer in time (${error}): the halt is not confirmed in it (the write may still land), and it could not be saved in DATA_DIR either (${saveError}). `
      + `${unsavedReach(killer, true, true)} `
      + 'Kill again once the database or DATA_DIR can be written.'
    : `The database ${databaseFailure(configProblem)} (${error}) and the halt could not be saved in DATA_DIR either (${saveError}): it is saved nowhere. `
      + `${unsavedReach(killer, false, true)} `
      + 'Kill again once the database or DATA_DIR can be written.';
}

/**
 * The title of the alert a saved kill raises once it is written to the database: what its database did
 * as its kill saw it (`database`, kept with the saved kill), or — when its kill ended before the
 * database answered (stopped, crashed) — only that; a pending-kill file that could not be read is
 * said as such (it is taken as a kill to be safe).
 */
export function replayedKillTitle(database: { configProblem: boolean } | undefined, unreadable = false): string {
  const written = "is now written to this bot's database: the bot is halted";
  if (unreadable) return `An unreadable pending-kill file in DATA_DIR, taken as a kill to be safe, ${written}`;
  return database
    ? `A kill saved in DATA_DIR (its database ${databaseFailure(database.configProblem)}) ${written}`
    : `A kill saved in DATA_DIR (its kill ended before the database took it) ${written}`;
}

/**
 * A kill with the key that could not confirm zero open orders on Kraken while the database did not
 * take its halt: it could write no follow-up request then; once the database takes the saved kill,
 * its replay writes one (the cancel handed on to the bot with the key). Said in the reply (a
 * sentence) and the kill's alert (a phrase).
 */
export function savedFollowUpText(configProblem: boolean): string {
  return `The cancel could not be handed on yet (the database ${databaseFailure(configProblem)}): once it ${configProblem ? 'can be used' : 'answers'}, writing the saved halt `
    + 'hands it on as a follow-up request to the bot with the Kraken key (and marks the incident\'s cancel item pending on it). '
    + "Until then orders may remain open on Kraken: kill again once Kraken answers, or cancel in Kraken's UI.";
}

export function savedFollowUpPhrase(configProblem: boolean): string {
  return `pending on the database: once it ${configProblem ? 'can be used' : 'answers'}, the saved kill hands the cancel on to the bot with the Kraken key (a follow-up request); until then orders may remain open on Kraken`;
}
