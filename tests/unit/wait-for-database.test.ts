// The bot's start and a database that went away after it answered (src/app/wait-for-database.ts):
// the part is started again once the database answers, an outage is named and said once (not at
// every try), /healthz's standing says what the start waits for, what waiting does not fix is thrown
// at once, and a stop signal ends the wait. Pauses of 0 ms: nothing here is timed.
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { StartProgress } from '../../src/app/start-progress.js';
import { seconds, StartStoppedError, untilDatabaseAnswers } from '../../src/app/wait-for-database.js';
import { markDatabaseError } from '../../src/db/connect-errors.js';
import { NotPostgresError } from '../../src/db/postgres-sockets.js';

const URL = 'postgres://ctb:pw-not-to-print@db.internal:6432/ctb';

/** Lets timers of 0 ms and promises run until `done` holds (no time is measured). */
async function waitFor(done: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !done(); i++) await new Promise((r) => setTimeout(r, 1));
  expect(done()).toBe(true);
}

function logged() {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { logger, lines };
}

const refused = () => {
  const err = Object.assign(new Error('connect ECONNREFUSED 10.0.0.5:6432'), { code: 'ECONNREFUSED', address: '10.0.0.5', port: 6432 });
  markDatabaseError(err); // as the database's sockets mark theirs (postgres-sockets.ts)
  return err;
};

describe('the waits it says', () => {
  it('says a wait under a second in ms (START_DB_CHECK_TIMEOUT=100ms is not "0 s"), tenths under ten seconds, whole seconds after', () => {
    expect([100, 999, 1_000, 1_500, 2_000, 9_949, 10_400, 65_000].map(seconds)).toEqual(['100 ms', '999 ms', '1 s', '1.5 s', '2 s', '9.9 s', '10 s', '65 s']);
  });
});

describe('untilDatabaseAnswers', () => {
  it('starts the part again once the database answers, says the outage once with host:port and what it does, and says when it is back', async () => {
    const { logger, lines } = logged();
    const progress = new StartProgress();
    const standings: unknown[] = [];
    let tries = 0;
    const started = await untilDatabaseAnswers('the part "mode"', async () => {
      tries += 1;
      standings.push(progress.standing());
      if (tries <= 2) throw new NotPostgresError('10.0.0.5', 6432, null);
      if (tries === 3) throw refused();
      return 'started';
    }, { logger, databaseUrl: URL, progress, pausesMs: [0, 0] });
    expect(started).toBe('started');
    expect(tries).toBe(4);
    expect(standings[0]).toMatchObject({ state: 'starting' });
    expect(standings[1]).toMatchObject({
      state: 'waiting for the database', part: 'the part "mode"',
      database: 'connection lost: new connections are closed without an answer (NOT_POSTGRES) at 10.0.0.5:6432',
    });
    expect(standings[3]).toMatchObject({ state: 'waiting for the database', database: 'connection refused (ECONNREFUSED) at 10.0.0.5:6432' });
    expect(progress.standing()).toMatchObject({ state: 'starting' });
    expect(progress.waitingForDatabase).toBe(false);
    const said = lines.map((l) => String(l.msg));
    // Said once when lost, again only when what happens changes (lost → refused), and when it is back.
    expect(lines.map((l) => l.event)).toEqual(['start_database_lost', 'start_database_waiting', 'start_database_back']);
    expect(said[0]).toBe(
      'the database at 10.0.0.5:6432 went away during the start, after it had answered: connection lost: new connections are closed without an answer (NOT_POSTGRES). ' +
        'Waiting for it, retrying every 0 ms; the start goes on from the part "mode" when it answers. ' +
        '/healthz and the kill switch answer meanwhile; the engine places no order while the start waits for it.',
    );
    expect(said[1]).toMatch(/^still waiting for the database at 10\.0\.0\.5:6432 after \d+(?:\.\d)? m?s \(connection refused \(ECONNREFUSED\)\)/);
    expect(said[2]).toMatch(/^the database answers again after \d+(?:\.\d)? m?s: the start goes on from the part "mode"$/);
    expect(JSON.stringify(lines)).not.toContain('pw-not-to-print');
  });

  it('waits, as for an outage, for too many clients (53300, 53400) and for a login refused after it was accepted (a rotation)', async () => {
    for (const [err, detail] of [
      [Object.assign(new Error('sorry, too many clients already'), { code: '53300' }), 'the server refuses new connections for now: sorry, too many clients already (53300)'],
      [Object.assign(new Error('remaining connection slots are reserved'), { code: '53400' }), 'the server refuses new connections for now: remaining connection slots are reserved (53400)'],
      [Object.assign(new Error('password authentication failed for user "ctb"'), { code: '28P01' }),
        'the login is refused now, after it had been accepted: password authentication failed for user "ctb" (28P01); if the credentials were rotated, DATABASE_URL needs the new ones'],
    ] as const) {
      const { logger, lines } = logged();
      const progress = new StartProgress();
      let tries = 0;
      const standings: unknown[] = [];
      expect(await untilDatabaseAnswers('the part "mode"', async () => {
        tries += 1;
        standings.push(progress.standing());
        if (tries === 1) throw err;
        return 'started';
      }, { logger, databaseUrl: URL, progress, pausesMs: [0] })).toBe('started');
      expect(standings[1]).toMatchObject({ state: 'waiting for the database', database: `${detail} at db.internal:6432` });
      expect(lines.map((l) => l.event)).toEqual(['start_database_lost', 'start_database_back']);
      expect(JSON.stringify(lines)).not.toContain('pw-not-to-print');
    }
  });

  it('throws at once what waiting does not fix: a missing database, a network error that is not the database’s, any other error', async () => {
    for (const err of [
      Object.assign(new Error('database "ctb" does not exist'), { code: '3D000' }),
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8080'), { code: 'ECONNREFUSED', address: '127.0.0.1', port: 8080 }),
      new Error('strategies file changed'),
    ]) {
      const { logger, lines } = logged();
      let tries = 0;
      await expect(untilDatabaseAnswers('the part "engine"', async () => {
        tries += 1;
        throw err;
      }, { logger, databaseUrl: URL, progress: new StartProgress(), pausesMs: [0] })).rejects.toBe(err);
      expect(tries).toBe(1);
      expect(lines).toEqual([]);
    }
  });

  it('ends the wait when the bot is asked to stop, naming what it waited for', async () => {
    const { logger } = logged();
    const stop = new AbortController();
    let tries = 0;
    const waiting = untilDatabaseAnswers('the start banner', async () => {
      tries += 1;
      if (tries === 2) stop.abort();
      throw refused();
    }, { logger, databaseUrl: URL, progress: new StartProgress(), stop: stop.signal, pausesMs: [0] });
    const err = await waiting.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StartStoppedError);
    expect((err as Error).message).toBe('stopped while the start waited for the database at 10.0.0.5:6432 (connection refused (ECONNREFUSED))');
    expect(tries).toBe(2);
  });

  it('a start in flight whose database does not answer a check is an outage (timeout): said, shown, and the same start waited for, not run again', async () => {
    const { logger, lines } = logged();
    const progress = new StartProgress();
    let tries = 0;
    let answer!: (v: string) => void;
    let probes = 0;
    let back = false;
    const running = untilDatabaseAnswers('the part "mode"', () => {
      tries += 1;
      return new Promise<string>((resolve) => (answer = resolve));
    }, { logger, databaseUrl: URL, progress, pausesMs: [0], overdueMs: 0, probeMs: 0, probe: () => { probes += 1; return back ? Promise.resolve() : new Promise(() => {}); } });
    await waitFor(() => progress.waitingForDatabase);
    expect(progress.standing()).toMatchObject({
      state: 'waiting for the database', part: 'the part "mode"', database: expect.stringMatching(/^no answer within 0 ms .* at db\.internal:6432$/),
    });
    expect(lines[0]).toMatchObject({ event: 'start_database_lost', outage: 'timeout', database: 'db.internal:6432' });
    expect(String(lines[0]!.msg)).toContain('Waiting for it, checking again every 0 ms; the start goes on from the part "mode" when it answers.');
    await waitFor(() => probes >= 3);
    back = true;
    answer('started');
    expect(await running).toBe('started');
    expect(tries).toBe(1);
    expect(progress.waitingForDatabase).toBe(false);
    expect(lines.map((l) => l.event)).toEqual(['start_database_lost', 'start_database_back']);
  });

  it('a start in flight whose database answers the check is left to finish, with nothing said', async () => {
    const { logger, lines } = logged();
    const progress = new StartProgress();
    let answer!: (v: string) => void;
    let probes = 0;
    const running = untilDatabaseAnswers('the part "slack"', () => new Promise<string>((resolve) => (answer = resolve)),
      { logger, databaseUrl: URL, progress, pausesMs: [0], overdueMs: 0, probeMs: 60_000, probe: async () => { probes += 1; } });
    await waitFor(() => probes >= 3);
    expect(progress.waitingForDatabase).toBe(false);
    answer('started');
    expect(await running).toBe('started');
    expect(lines).toEqual([]);
  });

  it('a stop signal ends a start in flight at once, not only the pause between tries', async () => {
    const { logger } = logged();
    const stop = new AbortController();
    const progress = new StartProgress();
    const running = untilDatabaseAnswers('the part "alerts"', () => new Promise<never>(() => {}),
      { logger, databaseUrl: URL, progress, stop: stop.signal, pausesMs: [0], overdueMs: 0, probeMs: 0, probe: () => new Promise(() => {}) });
    await waitFor(() => progress.waitingForDatabase);
    stop.abort();
    const err = await running.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StartStoppedError);
    expect((err as Error).message).toMatch(/^stopped while the start waited for the database at db\.internal:6432 \(no answer within 0 ms/);
    // Before any outage: stopped all the same, naming the part.
    const early = new AbortController();
    const starting = untilDatabaseAnswers('the part "slack"', () => new Promise<never>(() => {}), { logger, databaseUrl: URL, progress: new StartProgress(), stop: early.signal });
    early.abort();
    await expect(starting).rejects.toThrow('stopped during the start, at the part "slack"');
  });

  it('shows nothing on /healthz once the start is over', () => {
    const progress = new StartProgress();
    progress.waiting('the start banner', { kind: 'timeout', at: 'db.internal:6432', detail: 'no answer in time (CONNECT_TIMEOUT)' }, 10_000);
    expect(progress.standing()).toMatchObject({ state: 'waiting for the database', retryInS: 10, database: 'no answer in time (CONNECT_TIMEOUT) at db.internal:6432' });
    progress.over();
    expect(progress.standing()).toBeNull();
    expect(progress.waitingForDatabase).toBe(false);
  });
});
