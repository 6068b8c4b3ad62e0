// What Slack's answers during `ctb start`'s wait say the start waits on: the database not answering
// only when the start's progress says so; another process's migration lock when it is waited for;
// otherwise the migrations being applied on a database that answers.
import { describe, expect, it } from 'vitest';
import { nothingRunsYet } from '../../../src/app/migrate-or-wait.js';
import { StartProgress } from '../../../src/app/start-progress.js';
import type { StartingKillResult } from '../../../src/services/kill/kill-while-starting.js';
import { renderStartingKill, startingPhrase } from '../../../src/slack/while-starting.js';

const result: StartingKillResult = {
  ok: false, killId: 'k1', starting: true, krakenAccess: 'direct', state: 'pending', pendingFile: '/data/kill-pending.json',
  cancel: { venues: [{ venue: 'kraken', canceled: 2, confirmed: true, attempts: 1, survivors: [], errors: [] }], allConfirmed: false },
  flatten: null, message: 'Kraken: 2 cancelled.',
};

describe('Slack answers during the start name what it waits on', () => {
  it('a start applying its migrations on a database that answers is not said to be unreachable', () => {
    const progress = new StartProgress();
    const phrase = startingPhrase(progress.standing(), false);
    expect(phrase).not.toMatch(/not reachable/);
    expect(phrase).toMatch(/^starting: the database answers; the start is applying its migrations\./);
    expect(renderStartingKill(result, progress.standing()).text).toMatch(/^Kill taken while the bot starts \(it is opening its database and applying its migrations\): Kraken confirmed clear/);
  });

  it('a wait on another process\'s migration lock names it, and ends with the wait', () => {
    const progress = new StartProgress();
    progress.migrationWait('waiting for another process to finish migrating this database (it holds the migration lock: server process 4242)…');
    expect(startingPhrase(progress.standing(), false)).toMatch(/^starting: the database answers; its migrations wait: waiting for another process to finish migrating this database \(it holds the migration lock: server process 4242\)\. /);
    expect(renderStartingKill(result, progress.standing()).text).toMatch(/^Kill taken while the bot starts \(its migrations wait for another process's\)/);
    progress.migrationWait(null);
    expect(startingPhrase(progress.standing(), false)).not.toMatch(/migration lock/);
  });

  it('a database that does not answer is said so', () => {
    const progress = new StartProgress();
    progress.waiting('the migrations', { kind: 'refused', detail: 'connection refused (ECONNREFUSED)', at: '127.0.0.1:5432' }, 2_000);
    expect(startingPhrase(progress.standing(), false)).toMatch(/^starting: the database is not reachable yet \(waiting for it since .*, for the migrations: connection refused \(ECONNREFUSED\) at 127\.0\.0\.1:5432; tried again in 2 s\)\./);
    expect(renderStartingKill(result, progress.standing()).text).toMatch(/^Kill taken while the bot starts \(its database is not reachable yet\)/);
  });
});

describe("the migrations' wait, in the log, on Slack's /kill", () => {
  it('promises it only where its route is served over HTTP, and says Socket Mode does not take it yet', () => {
    expect(nothingRunsYet('http')).toContain("POST /kill answers meanwhile, and Slack's /kill over HTTP: it cancels");
    for (const slack of ['none', 'socket'] as const) {
      expect(nothingRunsYet(slack)).toContain('POST /kill answers meanwhile: it cancels');
      expect(nothingRunsYet(slack)).not.toMatch(/Slack over HTTP|Slack's \/kill over HTTP/);
    }
    expect(nothingRunsYet('socket')).toContain("Slack's /kill does not work until then: Socket Mode connects once the migrations are applied.");
  });
});
