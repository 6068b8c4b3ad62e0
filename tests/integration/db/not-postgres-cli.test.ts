// `ctb` as a child process with DATABASE_URL pointing at a server that is not PostgreSQL (a wrong
// port, a proxy): one that answers an HTTP error and closes, one that answers it and keeps the
// socket open, and one that closes without answering. postgres.js alone waited for the rest of a
// "message" whose length it read from the HTTP text, or connected again and again to the server
// that closed: `ctb stats` printed nothing for minutes, `ctb start` stopped at opening the database
// and `ctb kill` printed its summary but never exited. Each now ends within a bound, non-zero, with
// one line naming host:port and what the server sent, and never the URL's password.
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ctbInShell, type ShellRun as Run } from '../../support/ctb-shell.js';

// Well under what the hang lasted (600 s for stats; start and kill never ended), and well over a
// CLI's start on a loaded two-core machine.
const BOUND_MS = 45_000;

/** `ctb` in a fresh directory, killed if it has not exited within BOUND_MS. */
const ctb = (args: string[], env: Record<string, string>): Promise<Run> => ctbInShell(args, env, undefined, { boundMs: BOUND_MS });

type Answer = 'http-then-close' | 'http-keep-open' | 'close-silently' | 'ssh-banner';

/** A TCP server that reads the first bytes of each connection and answers as `answer` says. */
async function notPostgres(answer: Answer): Promise<{ server: Server; sockets: Set<Socket> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined).on('close', () => sockets.delete(socket));
    // An SSH server speaks first, and its first byte is the one of PostgreSQL's answer to a TLS request.
    if (answer === 'ssh-banner') return void socket.write('SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n');
    socket.once('data', () => {
      if (answer === 'close-silently') return socket.end();
      socket.write('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      if (answer === 'http-then-close') socket.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, sockets };
}

const PASSWORD = 'pw-not-to-print';
const SAID: Record<Answer, string> = {
  'http-then-close': 'it sent "HTTP/1.1 400 Bad Request"',
  'http-keep-open': 'it sent "HTTP/1.1 400 Bad Request"',
  'close-silently': 'it closed the connection without answering',
  'ssh-banner': 'it sent "SSH-2.0-OpenSSH_9.2p1 Debian-2"',
};
const firstErrorLine = (r: Run) => r.stderr.split('\n').find((l) => l.startsWith('error:')) ?? '';

describe('ctb with DATABASE_URL at a server that is not PostgreSQL', { timeout: BOUND_MS + 30_000 }, () => {
  const servers = new Map<Answer, { server: Server; sockets: Set<Socket> }>();
  const portOf = (answer: Answer) => (servers.get(answer)!.server.address() as AddressInfo).port;
  const urlOf = (answer: Answer) => `postgres://ctb:${PASSWORD}@127.0.0.1:${portOf(answer)}/ctb`;
  const expected = (answer: Answer) =>
    `error: The server at 127.0.0.1:${portOf(answer)} did not answer as PostgreSQL (${SAID[answer]}). Check DATABASE_URL's host and port.`;
  const expectNamed = (r: Run, answer: Answer) => {
    expect(r.signal, `killed after ${BOUND_MS} ms: ${r.stdout}${r.stderr}`).toBeNull();
    expect(r.code).toBe(2);
    expect(firstErrorLine(r)).toBe(expected(answer));
    expect(r.stdout + r.stderr).not.toContain(PASSWORD);
  };

  beforeAll(async () => {
    for (const answer of ['http-then-close', 'http-keep-open', 'close-silently', 'ssh-banner'] as const) servers.set(answer, await notPostgres(answer));
  });
  afterAll(async () => {
    for (const { sockets } of servers.values()) sockets.forEach((s) => s.destroy());
    await Promise.all([...servers.values()].map(({ server }) => new Promise<void>((r) => server.close(() => r()))));
  });

  it.each(['http-then-close', 'http-keep-open', 'close-silently', 'ssh-banner'] as const)('stats ends with exit 2 naming what the server at host:port did (%s)', async (answer) => {
    expectNamed(await ctb(['stats'], { DATABASE_URL: urlOf(answer) }), answer);
  });

  it.each(['http-then-close', 'http-keep-open'] as const)('start stops opening the database with exit 2 naming the server (%s)', async (answer) => {
    const r = await ctb(['start', '--feed', 'replay'], { DATABASE_URL: urlOf(answer), PORT: '0', HOST: '127.0.0.1', MARKET_FEED: 'replay' });
    expectNamed(r, answer);
    expect(r.stdout + r.stderr).not.toMatch(/database ready|ctb running on port/);
  });

  it.each(['http-then-close', 'http-keep-open'] as const)('kill saves the halt in DATA_DIR, says the database did not take it and exits 2 (%s)', async (answer) => {
    const r = await ctb(['kill', '--reason', 'wrong port drill'], { DATABASE_URL: urlOf(answer) });
    expectNamed(r, answer);
    expect(r.stdout).toMatch(/halt is saved only in .*kill-pending\.json, NOT in the database/);
    expect(r.stdout).not.toMatch(/^KILLED/m);
  });
});
