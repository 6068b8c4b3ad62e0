// Owns the sockets under a postgres.js client (its `socket` option), so closing the client can end
// once each connection's goodbye has left instead of waiting for the server to close its end; and
// so that a server that does not speak PostgreSQL fails the connection at once (NotPostgresError).
import { Socket } from 'node:net';

interface SocketTarget {
  host: string[];
  port: number[];
  path?: string | false;
}

// The first byte a PostgreSQL server sends: to the start-up message R (authentication), E (error),
// N (notice) or v (protocol version); to a TLS request S or N.
const FIRST_BYTES = new Set([0x52, 0x45, 0x4e, 0x76, 0x53]);
// A first message longer than this is not PostgreSQL's (its errors and auth requests are short).
const FIRST_MESSAGE_MAX = 1 << 20;
const CANCEL_REQUEST_BYTES = 16;

/**
 * The server at host:port answered, but not as PostgreSQL (an HTTP server, a proxy, another service
 * on a wrong port), or closed the connection without answering. postgres.js itself would wait for
 * the rest of a "message" that never comes (a length read from the garbage), or connect again and
 * again to a server that closes: every command hung. `answer` is what the server sent, as text.
 */
export class NotPostgresError extends Error {
  readonly code = 'NOT_POSTGRES';
  constructor(readonly address: string, readonly port: number | undefined, readonly answer: string | null) {
    super(`the server at ${port === undefined ? address : `${address}:${port}`} did not answer as PostgreSQL (${answer === null ? 'it closed the connection without answering' : `it sent ${answer}`})`);
    this.name = 'NotPostgresError';
  }
}

/** The start of what a server sent, for a person: its first line as text, or its first bytes in hex. */
export function describeAnswer(bytes: Buffer): string {
  const head = bytes.subarray(0, 64);
  const end = head.findIndex((b) => b === 0x0a || b === 0x0d);
  const line = end === -1 ? head : head.subarray(0, end);
  const printable = [...line].filter((b) => b >= 0x20 && b < 0x7f).length;
  if (line.length > 0 && printable === line.length) return `"${line.toString('latin1')}${end === -1 && bytes.length > head.length ? '…' : ''}"`;
  return `${bytes.length} byte(s) that are not PostgreSQL's: ${[...bytes.subarray(0, 8)].map((b) => b.toString(16).padStart(2, '0')).join(' ')}${bytes.length > 8 ? ' …' : ''}`;
}

/** Whether the first bytes a server sent can begin a PostgreSQL answer. */
function looksLikePostgres(bytes: Buffer): boolean {
  if (!FIRST_BYTES.has(bytes[0]!)) return false;
  // The answer to a TLS request is that one byte alone (the server then waits for the client): a
  // longer first chunk is a message with its length, which an SSH banner ("SSH-2.0-…") is not.
  if (bytes.length < 5) return true;
  const length = bytes.readUInt32BE(1);
  return length >= 4 && length <= FIRST_MESSAGE_MAX;
}

/**
 * Watches a new connection until the server's first bytes: if they cannot begin a PostgreSQL answer,
 * or the server ends the connection before sending any, the socket is destroyed with a
 * NotPostgresError, which postgres.js hands to the query waiting for the connection.
 */
function expectPostgres(s: Socket, address: string, port: number | undefined): void {
  const stop = () => {
    s.off('data', onData).off('end', onEnd);
  };
  const onData = (chunk: Buffer) => {
    stop();
    if (!looksLikePostgres(chunk)) s.destroy(new NotPostgresError(address, port, describeAnswer(chunk)));
  };
  const onEnd = () => {
    stop();
    // A cancel request (16 bytes) is answered by the server closing the connection.
    if (s.bytesWritten === CANCEL_REQUEST_BYTES) return;
    s.destroy(new NotPostgresError(address, port, null));
  };
  s.on('data', onData).on('end', onEnd);
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
      if (target.path) {
        expectPostgres(s, target.path, undefined);
        return s.connect(target.path);
      }
      const i = next++ % Math.max(target.port.length, 1);
      const host = target.host[i] ?? 'localhost';
      const port = target.port[i] ?? 5432;
      // postgres.js names the host for TLS and errors from these, as on its own sockets.
      Object.assign(s, { host, port });
      expectPostgres(s, host, port);
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
