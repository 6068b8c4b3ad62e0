// A network failure that is not the database's is never named as the database's. The socket codes
// (ECONNREFUSED, ECONNRESET, EPIPE, …) are every client's: fetch to Kraken or Slack, a mail server,
// a pipe. Each real failure here goes through the describers the kill (describeError) and every CLI
// command (printError) use; the database's own refused connection — also where no query wrapper
// is around it — is still named as the database's.
import { spawn } from 'node:child_process';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { printError } from '../../../src/cli/with-context.js';
import { testConfig } from '../../../src/config/env.js';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectPostgres, openDatabase } from '../../../src/db/client.js';
import { lockPath } from '../../../src/db/pglite-lock.js';
import { databaseProblem } from '../../../src/db/connect-errors.js';
import { createSmtpMailer } from '../../../src/email/smtp.js';
import { cancelAllDirect } from '../../../src/exchange/kraken/direct-cancel-all.js';
import { describeError } from '../../../src/services/kill/deadline.js';
import { slackWebClient } from '../../../src/slack/web-client.js';
import { recordingIo } from '../../support/cli-io.js';
import { TEST_API_KEY, TEST_API_SECRET } from '../../support/kraken-test-keys.js';

// Where the database is configured, as the CLI and the kill see it: not where the failures are.
const DATABASE_URL = 'postgres://postgres:pw-secret@127.0.0.1:5432/ctb';

const servers: Server[] = [];
afterEach(async () => {
  while (servers.length) {
    const s = servers.pop()!;
    await new Promise((r) => s.close(r));
  }
});

async function listening(onConnection: (socket: Socket) => void): Promise<number> {
  const s = createServer((socket) => {
    socket.on('error', () => {});
    onConnection(socket);
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  servers.push(s);
  return (s.address() as AddressInfo).port;
}

async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

/** What a `ctb` command prints for `err`, with DATABASE_URL set. */
function printed(err: unknown): { code: number; stderr: string } {
  const io = recordingIo({});
  const code = printError(io, err, testConfig({ DATABASE_URL }));
  return { code, stderr: io.err() };
}

function notTheDatabase(err: unknown, says: string | RegExp): void {
  expect(databaseProblem(err, DATABASE_URL)).toBeNull();
  expect(databaseProblem(err)).toBeNull();
  const described = describeError(err);
  expect(described).not.toMatch(/database|db_/i);
  expect(described).toMatch(says);
  const { code, stderr } = printed(err);
  expect(stderr).not.toMatch(/database/i);
  expect(stderr).toMatch(says);
  expect(code).toBe(1);
}

const kraken = (url: string) => testConfig({ KRAKEN_API_URL: url, KRAKEN_API_KEY: TEST_API_KEY, KRAKEN_API_SECRET: TEST_API_SECRET });

describe('a network failure that is not the database\'s', () => {
  it('Kraken refusing the connection (KRAKEN_API_URL on a closed port): the kill\'s first CancelAll names that address, not the database', async () => {
    const port = await closedPort();
    const err = await cancelAllDirect(kraken(`http://127.0.0.1:${port}`)).then(() => null, (e: unknown) => e);
    expect((err as Error).message).toBe('fetch failed');
    notTheDatabase(err, `fetch failed: connect ECONNREFUSED 127.0.0.1:${port}`);
  });

  it('Kraken resetting the connection during a CancelAll is the connection\'s failure, not the database\'s', async () => {
    const port = await listening((socket) => socket.once('data', () => socket.resetAndDestroy()));
    const err = await cancelAllDirect(kraken(`http://127.0.0.1:${port}`)).then(() => null, (e: unknown) => e);
    notTheDatabase(err, /fetch failed: read ECONNRESET/);
  });

  it('Slack refusing the connection (SLACK_API_URL on a closed port)', async () => {
    const port = await closedPort();
    const client = slackWebClient(testConfig({ SLACK_BOT_TOKEN: 'xoxb-1-2-test', SLACK_SIGNING_SECRET: 'a'.repeat(32), SLACK_API_URL: `http://127.0.0.1:${port}/api/`, SLACK_RETRY_PAUSE: '1ms' }));
    const err = await client.auth.test().then(() => null, (e: unknown) => e);
    notTheDatabase(err, `connect ECONNREFUSED 127.0.0.1:${port}`);
  });

  it('a mail server that resets the connection', async () => {
    const port = await listening((socket) => setImmediate(() => socket.resetAndDestroy()));
    const mailer = createSmtpMailer(testConfig({ SMTP_URL: `smtp://127.0.0.1:${port}?tls=off` }));
    const err = await mailer.send({ to: ['ops@example.com'], subject: 'x', text: 'x' }).then(() => null, (e: unknown) => e);
    mailer.close();
    notTheDatabase(err, /ECONNRESET/);
  });

  it('a write to a pipe whose reader has gone (EPIPE, as `ctb … | head` closes it)', async () => {
    // A reader that closes its end of the pipe and says so, then waits: the next write finds no reader.
    const child = spawn(process.execPath, ['-e', "require('fs').closeSync(0); process.stdout.write('closed'); setTimeout(() => {}, 10000)"], { stdio: ['pipe', 'pipe', 'ignore'] });
    await new Promise((r) => child.stdout.once('data', r));
    const err = await new Promise<unknown>((resolve) => {
      child.stdin.once('error', resolve);
      child.stdin.write('x');
    });
    child.kill();
    expect(err).toMatchObject({ code: 'EPIPE' });
    notTheDatabase(err, /EPIPE/);
  });
});

describe('the database\'s own refused connection', () => {
  // A transaction's BEGIN is sent by the driver itself, with no query wrapper around its error: the
  // socket it failed on says it is the database's, for the kill, which has no URL to compare with.
  it('is named as the database\'s where no query wrapper is around it (a transaction), with or without the URL', async () => {
    const port = await closedPort();
    const url = `postgres://postgres:pw-secret@127.0.0.1:${port}/ctb`;
    const database = connectPostgres(url, { max: 1 });
    const err = await database.db.transaction(async () => undefined).then(() => null, (e: unknown) => e);
    await database.close().catch(() => {});
    expect(describeError(err)).toBe(`db_refused: The database refused the connection at 127.0.0.1:${port} (ECONNREFUSED).`);
    expect(databaseProblem(err, url)).toMatchObject({ code: 'db_refused' });
    expect(printError(recordingIo({}), err, testConfig({ DATABASE_URL: url }))).toBe(1);
  });

  // The embedded database's owner gone, its socket with it: a later command connects to a path that
  // is not there. Its transaction's error is the database's too.
  it('names a missing embedded-database socket as the database\'s where no query wrapper is around it', async () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'ctb-neterr-')), 'data');
    mkdirSync(dataDir, { recursive: true });
    const socketPath = join(dataDir, 'pglite.sock');
    // Held by a live process other than this one (the test runner's parent), serving at a path that is gone.
    writeFileSync(lockPath(dataDir), JSON.stringify({ pid: process.ppid, socketPath, since: new Date().toISOString() }));
    const database = await openDatabase({ dataDir });
    expect(database.via).toBe('socket');
    const err = await database.db.transaction(async () => undefined).then(() => null, (e: unknown) => e);
    await database.close().catch(() => {});
    expect(describeError(err)).toBe(`db_refused: No database socket at ${socketPath} (ENOENT).`);
  });
});
