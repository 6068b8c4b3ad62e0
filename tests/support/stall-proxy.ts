// A TCP proxy in front of PostgreSQL that a test can stall (bytes stop flowing: queries hang, as
// on a frozen network or a wedged server) or take down (connections reset and new ones refused). When
// deaf, what the client sends goes through and the answers are held (the server commits, the client
// does not hear it).
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export type ProxyState = 'forward' | 'stall' | 'down' | 'deaf';

export interface StallProxy {
  port: number;
  /** The target URL with host and port replaced by the proxy's. */
  urlFor(target: string): string;
  set(state: ProxyState): void;
  /**
   * The connections open now go dead for good, as half-open TCP does (their bytes held whatever the
   * state, never passed on, the sockets left open): only connections made after pass again.
   */
  deadenOpen(): void;
  /** Connections open through it now. */
  readonly connections: number;
  close(): Promise<void>;
}

/** `listenPort`: the loopback port it listens on (default any free one), e.g. where a database was unreachable before. */
export async function startStallProxy(targetHost = '127.0.0.1', targetPort = 5432, listenPort = 0): Promise<StallProxy> {
  let state: ProxyState = 'forward';
  const pairs = new Set<{ client: Socket; server: Socket; held: Array<[Socket, Buffer]>; dead: boolean }>();
  const server: Server = createServer((client) => {
    if (state === 'down') return client.destroy();
    const upstream = connect(targetPort, targetHost);
    const pair = { client, server: upstream, held: [] as Array<[Socket, Buffer]>, dead: false };
    pairs.add(pair);
    const pipe = (from: Socket, to: Socket) =>
      from.on('data', (chunk) => {
        if (!pair.dead && (state === 'forward' || (state === 'deaf' && to === upstream))) to.write(chunk);
        else pair.held.push([to, chunk]);
      });
    pipe(client, upstream);
    pipe(upstream, client);
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(listenPort, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    urlFor(target) {
      const u = new URL(target);
      u.hostname = '127.0.0.1';
      u.port = String(port);
      return u.toString();
    },
    get connections() {
      return pairs.size;
    },
    deadenOpen() {
      for (const p of pairs) p.dead = true;
    },
    set(next) {
      state = next;
      if (next === 'down') {
        for (const p of pairs) {
          p.client.destroy();
          p.server.destroy();
        }
        pairs.clear();
      }
      if (next === 'forward') {
        for (const p of pairs) {
          if (p.dead) continue;
          for (const [to, chunk] of p.held) to.write(chunk);
          p.held = [];
        }
      }
    },
    close: () =>
      new Promise((resolve) => {
        for (const p of pairs) {
          p.client.destroy();
          p.server.destroy();
        }
        server.close(() => resolve());
      }),
  };
}
