// Owns the sockets under a postgres.js client (its `socket` option), so closing the client can end
// once each connection's goodbye has left instead of waiting for the server to close its end.
import { Socket } from 'node:net';

interface SocketTarget {
  host: string[];
  port: number[];
  path?: string | false;
}

/**
 * postgres.js's sockets, made here as postgres.js makes them (the configured hosts in turn, or the
 * Unix socket's path; postgres.js writes its start-up message once connected), so that closing
 * the client can end when every connection's Terminate message and FIN have left, rather than when
 * the server has closed its end too: a backend exiting takes the server a few milliseconds, which
 * every `ctb` command waited for before it could exit. The server reads Terminate before the end
 * of the stream, so it sees an orderly goodbye; the socket goes on closing without holding the
 * process.
 */
export function ownSockets(): { socket: (target: SocketTarget) => Socket; terminated(): Promise<void>; destroy(): void } {
  const open = new Set<Socket>();
  let next = 0;
  return {
    socket(target) {
      const s = new Socket();
      open.add(s);
      s.once('close', () => open.delete(s));
      if (target.path) return s.connect(target.path);
      const i = next++ % Math.max(target.port.length, 1);
      const host = target.host[i] ?? 'localhost';
      const port = target.port[i] ?? 5432;
      // postgres.js names the host for TLS and errors from these, as on its own sockets.
      Object.assign(s, { host, port });
      return s.connect(port, host);
    },
    destroy() {
      for (const s of open) s.destroy();
    },
    async terminated() {
      await Promise.all(
        [...open].map((s) => {
          if (s.destroyed || s.writableFinished) return s.unref();
          return new Promise<void>((resolve) => {
            const done = () => {
              s.off('finish', done).off('close', done);
              s.unref();
              resolve();
            };
            s.once('finish', done).once('close', done);
          });
        }),
      );
    },
  };
}
