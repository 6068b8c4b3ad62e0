// `ctb` as a child process with DATABASE_URL at a server that answers as PostgreSQL, then closes the
// connection during the start-up without an error message (a proxy whose server went away): after
// an authentication request, or partway through one. postgres.js connected again at once, for ever:
// `ctb stats` and `ctb kill` never ended. Each now ends within seconds, exit 1 (the server may come
// back), with one line naming host:port and what happened, and never the URL's password; the kill
// still saves its halt in DATA_DIR.
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ctbInShell, type ShellRun as Run } from '../../support/ctb-shell.js';

// The hang had no end; a CLI starts in a few seconds even on a loaded two-core machine.
const BOUND_MS = 30_000;

/** `ctb` in a fresh directory, killed if it has not exited within BOUND_MS. */
const ctb = (args: string[], env: Record<string, string>): Promise<Run> => ctbInShell(args, env, undefined, { boundMs: BOUND_MS });

type Answer = 'auth-then-close' | 'half-message-then-close';

/** Answers each start-up message as PostgreSQL begins to (AuthenticationOk, or its first 5 bytes), then ends the connection. */
async function closingMidStartup(answer: Answer): Promise<{ server: Server; sockets: Set<Socket>; connections: () => number }> {
  const sockets = new Set<Socket>();
  let connections = 0;
  const server = createServer((socket) => {
    connections += 1;
    sockets.add(socket);
    socket.on('error', () => undefined).on('close', () => sockets.delete(socket));
    socket.once('data', () => {
      const authOk = Buffer.from([0x52, 0, 0, 0, 8, 0, 0, 0, 0]);
      socket.end(answer === 'auth-then-close' ? authOk : authOk.subarray(0, 5));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, sockets, connections: () => connections };
}

const PASSWORD = 'pw-not-to-print';
const SAID: Record<Answer, string> = { 'auth-then-close': 'an authentication request', 'half-message-then-close': 'part of a message' };
const firstErrorLine = (r: Run) => r.stderr.split('\n').find((l) => l.startsWith('error:')) ?? '';

describe('ctb with DATABASE_URL at a server that closes the connection during the start-up', { timeout: BOUND_MS + 30_000 }, () => {
  const servers = new Map<Answer, Awaited<ReturnType<typeof closingMidStartup>>>();
  const portOf = (answer: Answer) => (servers.get(answer)!.server.address() as AddressInfo).port;
  const urlOf = (answer: Answer) => `postgres://ctb:${PASSWORD}@127.0.0.1:${portOf(answer)}/ctb`;
  const said = (answer: Answer) =>
    `The database at 127.0.0.1:${portOf(answer)} closed the connection during start-up after it sent ${SAID[answer]}, without an error message (STARTUP_CLOSED).`;

  beforeAll(async () => {
    for (const answer of ['auth-then-close', 'half-message-then-close'] as const) servers.set(answer, await closingMidStartup(answer));
  });
  afterAll(async () => {
    for (const { sockets } of servers.values()) sockets.forEach((s) => s.destroy());
    await Promise.all([...servers.values()].map(({ server }) => new Promise<void>((r) => server.close(() => r()))));
  });

  it.each(['auth-then-close', 'half-message-then-close'] as const)('stats ends with exit 1 naming the server at host:port and what it did (%s)', async (answer) => {
    const r = await ctb(['stats'], { DATABASE_URL: urlOf(answer) });
    expect(r.signal, `killed after ${BOUND_MS} ms: ${r.stdout}${r.stderr}`).toBeNull();
    expect(r.code).toBe(1);
    expect(firstErrorLine(r)).toBe(`error: ${said(answer)} It may be restarting; try again.`);
    expect(r.stdout + r.stderr).not.toContain(PASSWORD);
    // Not a storm of connections: the command gives up instead of connecting again and again.
    expect(servers.get(answer)!.connections()).toBeLessThan(50);
  });

  it('kill saves the halt in DATA_DIR, says the database did not take it and why, and exits 1', async () => {
    const r = await ctb(['kill', '--reason', 'proxy drill'], { DATABASE_URL: urlOf('auth-then-close') });
    expect(r.signal, `killed after ${BOUND_MS} ms: ${r.stdout}${r.stderr}`).toBeNull();
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/halt is saved only in .*kill-pending\.json, NOT in the database/);
    expect(r.stdout).toContain(said('auth-then-close'));
    expect(r.stdout).not.toMatch(/^KILLED/m);
    expect(r.stdout + r.stderr).not.toContain(PASSWORD);
  });
});
