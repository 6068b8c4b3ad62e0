// postgres.js 3.4.9 writes a small query from a setImmediate; when the server closed the connection
// before that timer ran, it called write on a null socket and threw from the timer, where no caller
// can catch it: a database cut (a proxy gone, a server restarted) ended the live bot with an uncaught
// TypeError (porsager/postgres#1154, #1208; unfixed upstream in 3.4.10). patches/postgres+3.4.9.patch
// (applied by patch-package on install) settles that write's queries with CONNECTION_CLOSED instead.
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_URL } from '../../support/test-database-url.js';

const ROOT = new URL('../../../', import.meta.url).pathname;

/** A TCP proxy in front of the tests' PostgreSQL whose connections the test can cut. */
let proxy: Server;
const open = new Set<Socket>();
beforeAll(async () => {
  const target = new URL(ADMIN_URL);
  proxy = createServer((client) => {
    const server = connect(Number(target.port || 5432), target.hostname);
    for (const s of [client, server]) {
      open.add(s);
      s.on('error', () => undefined);
      s.once('close', () => open.delete(s));
    }
    client.pipe(server).pipe(client);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
});
afterAll(async () => {
  for (const s of open) s.destroy();
  await new Promise((resolve) => proxy.close(resolve));
});

describe('a query on a connection the server closed', () => {
  it('is rejected with CONNECTION_CLOSED, and nothing is thrown from a timer (the process lives on)', async () => {
    const url = new URL(ADMIN_URL);
    url.host = `127.0.0.1:${(proxy.address() as { port: number }).port}`;
    // When the client has seen the close (closed() ran: its socket is gone).
    let clientClosed!: () => void;
    const clientSawClose = new Promise<void>((resolve) => (clientClosed = resolve));
    const sql = postgres(url.toString(), { max: 1, onnotice: () => undefined, onclose: () => clientClosed() });
    const uncaught: unknown[] = [];
    let thrownFromATimer!: () => void;
    const thrown = new Promise<'thrown from a timer'>((resolve) => (thrownFromATimer = () => resolve('thrown from a timer')));
    const onUncaught = (err: unknown) => {
      uncaught.push(err);
      thrownFromATimer();
    };
    process.on('uncaughtException', onUncaught);
    try {
      // A reserved connection stays this query's own after the cut (a pooled one would be rotated away).
      const reserved = await sql.reserve();
      expect(await reserved`select 1 as one`).toEqual([{ one: 1 }]);
      for (const s of open) s.destroy();
      await clientSawClose;
      // Unsettled when the write threw from its timer instead (the query waits forever): raced with that.
      const settled = reserved`select 2 as two`.then(() => 'answered', (err: { code?: string }) => err.code);
      expect(await Promise.race([settled, thrown])).toBe('CONNECTION_CLOSED');
      // The write's timer has run by now: nothing escaped it.
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(uncaught).toEqual([]);
    } finally {
      process.off('uncaughtException', onUncaught);
      await sql.end({ timeout: 1 }).catch(() => undefined);
    }
  });

  it('the shipped build bundles the settled write (dist/ is built from the patched library)', () => {
    const chunks = join(ROOT, 'dist', 'chunks');
    const withNextWrite = readdirSync(chunks).filter((f) => f.endsWith('.js')).map((f) => readFileSync(join(chunks, f), 'utf8')).filter((t) => t.includes('function nextWrite('));
    expect(withNextWrite).toHaveLength(1);
    expect(withNextWrite[0]).toMatch(/function nextWrite\(fn\) \{\s+if \(socket === null\) \{/);
  });
});
