// Closing a PostgreSQL client ends when each connection's goodbye (Terminate, then the end of the
// stream) has left, not when the server has closed its end too; and a one-shot `ctb` process exits
// then. Between client and server sits a proxy that passes everything on but, once told to, keeps
// the server's end of the stream from the client: waiting for the server would wait on it.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectPostgres, execute } from '../../../src/db/client.js';
import { createPostgresTestDb, type TestDatabase } from '../../support/db.js';

const ROOT = new URL('../../..', import.meta.url).pathname;
const BIN = join(ROOT, 'bin/ctb.js');
const TERMINATE = Buffer.from([0x58, 0, 0, 0, 4]); // 'X', length 4

interface HoldingProxy {
  url(target: string): string;
  /** From now on the server's end of a stream is not passed on to the client. */
  holdServerEnd(): void;
  /** Resolves when a client has ended its stream; with the bytes it sent last. */
  clientEnded(): Promise<Buffer>;
  close(): Promise<void>;
}

async function startHoldingProxy(): Promise<HoldingProxy> {
  let hold = false;
  const sockets = new Set<Socket>();
  const ends: Array<(last: Buffer) => void> = [];
  // Half-open allowed: the client's end of the stream must not end the proxy's side towards it.
  const server: Server = createServer({ allowHalfOpen: true }, (client) => {
    const upstream = connect(5432, '127.0.0.1');
    sockets.add(client).add(upstream);
    let last = Buffer.alloc(0);
    client.on('data', (d: Buffer) => {
      last = Buffer.concat([last, d]).subarray(-64);
      upstream.write(d);
    });
    upstream.on('data', (d: Buffer) => client.write(d));
    client.on('end', () => {
      for (const notify of ends.splice(0)) notify(last);
      upstream.end();
    });
    upstream.on('end', () => {
      if (!hold) client.end();
    });
    client.on('error', () => undefined);
    upstream.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url(target) {
      const u = new URL(target);
      u.hostname = '127.0.0.1';
      u.port = String(port);
      return u.toString();
    },
    holdServerEnd() {
      hold = true;
    },
    clientEnded: () => new Promise((resolve) => ends.push(resolve)),
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Rejects with `message` after `ms`: the bound on a wait whose passing case is an event. */
function notWithin(ms: number, message: string): { promise: Promise<never>; cancel(): void } {
  let timer: NodeJS.Timeout | undefined;
  const promise = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return { promise, cancel: () => clearTimeout(timer) };
}

describe('closing a PostgreSQL client', () => {
  let database: TestDatabase;
  let proxy: HoldingProxy;
  let dir: string;
  beforeAll(async () => {
    database = await createPostgresTestDb();
    dir = mkdtempSync(join(tmpdir(), 'ctb-close-'));
  });
  afterAll(async () => {
    await database?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("resolves once the Terminate message and the stream's end have left, without waiting for the server's end", async () => {
    proxy = await startHoldingProxy();
    const own = connectPostgres(proxy.url(database.url), { max: 1 });
    try {
      expect(await execute(own.db, sql`select 1 as one`)).toEqual([{ one: 1 }]);
      proxy.holdServerEnd();
      const ended = proxy.clientEnded();
      const closed = own.close();
      // An orderly goodbye: the last bytes the server got before the end of the stream are Terminate.
      const last = await ended;
      expect(last.subarray(-TERMINATE.length)).toEqual(TERMINATE);
      // Then nothing is left to wait for (postgres.js's own end() waits up to 5 s here, then destroys).
      const bound = notWithin(2_500, 'close() was still waiting for the server to close its end');
      try {
        await Promise.race([closed, bound.promise]);
      } finally {
        bound.cancel();
      }
    } finally {
      await proxy.close();
    }
  });

  it('a one-shot ctb command exits once its goodbye has left, while the server has not closed its end', async () => {
    proxy = await startHoldingProxy();
    try {
      proxy.holdServerEnd();
      const child = spawn(process.execPath, [BIN, 'stats', '--json'], {
        cwd: dir,
        env: { PATH: process.env.PATH ?? '', HOME: dir, LOG_DIR: join(dir, 'logs'), DATA_DIR: join(dir, 'data'), DATABASE_URL: proxy.url(database.url) },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (d) => (output += String(d)));
      child.stderr.on('data', (d) => (output += String(d)));
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      let code: number | null;
      try {
        // The command has answered and said goodbye ...
        const last = await Promise.race([proxy.clientEnded(), exited.then(() => Buffer.alloc(0))]);
        expect(last.subarray(-TERMINATE.length), output).toEqual(TERMINATE);
        // ... and exits then, the server's end still held back (before, it waited 5 s and destroyed the socket).
        const bound = notWithin(2_500, `ctb stats was still running after its goodbye (waiting for the server to close its end?):\n${output}`);
        try {
          code = await Promise.race([exited, bound.promise]);
        } finally {
          bound.cancel();
        }
      } finally {
        child.kill('SIGKILL');
      }
      expect(code, output).toBe(0);
      expect(JSON.parse(output)).toMatchObject({ ok: true, period: 'all' });
    } finally {
      await proxy.close();
    }
  });
});
