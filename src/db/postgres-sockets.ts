// Owns the sockets under a postgres.js client (its `socket` option), so closing the client can end
// once each connection's goodbye has left instead of waiting for the server to close its end; and
// so that a server that does not speak PostgreSQL fails the connection at once (NotPostgresError),
// as does one that closes it during the start-up without saying why (StartupClosedError).
import { Socket } from 'node:net';
import { markDatabaseError } from './connect-errors.js';

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
 * `answeredBefore`: a connection of this process to the same address was ready for queries before —
 * one closed now without an answer is a database gone away behind something that still accepts
 * connections (a proxy, a pooler), not a wrong address (connect-errors.ts).
 */
export class NotPostgresError extends Error {
  readonly code = 'NOT_POSTGRES';
  constructor(readonly address: string, readonly port: number | undefined, readonly answer: string | null, readonly answeredBefore = false) {
    super(answer === null && answeredBefore
      ? `the server at ${port === undefined ? address : `${address}:${port}`} closed the connection without answering, after it had answered as PostgreSQL`
      : `the server at ${port === undefined ? address : `${address}:${port}`} did not answer as PostgreSQL (${answer === null ? 'it closed the connection without answering' : `it sent ${answer}`})`);
    this.name = 'NotPostgresError';
  }
}

/** The addresses (host:port, or a socket's path) where a connection of this process was ready for queries. */
const answeredAt = new Set<string>();
const addressKey = (address: string, port: number | undefined) => (port === undefined ? address : `${address}:${port}`);

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
 * The server answered as PostgreSQL, then ended the connection during its start-up (before it was
 * ready for a query) without an error message: a proxy whose upstream went away, a server that
 * drops connections. postgres.js would connect again and again, at once, for ever: every command
 * hung. `after`: what it had sent, in words.
 */
export class StartupClosedError extends Error {
  readonly code = 'STARTUP_CLOSED';
  constructor(readonly address: string, readonly port: number | undefined, readonly after: string) {
    super(`the server at ${port === undefined ? address : `${address}:${port}`} closed the connection during PostgreSQL's start-up after it sent ${after}, without an error message`);
    this.name = 'StartupClosedError';
  }
}

/** What the start-up messages a server may send before it is ready are, for a person. */
const STARTUP_MESSAGES: Record<number, string> = { 0x52: 'an authentication request', 0x53: 'its parameters', 0x4b: 'its key', 0x4e: 'a notice', 0x76: 'its protocol version' };
const READY_FOR_QUERY = 0x5a; // Z
const ERROR_RESPONSE = 0x45; // E
const TLS_ANSWERS = new Set([0x53, 0x4e]); // S, N: the one-byte answer to a TLS request

/**
 * Watches a new connection until the server is ready for a query: if its first bytes cannot begin a
 * PostgreSQL answer, or the server ends the connection before sending any, the socket is destroyed
 * with a NotPostgresError; if it ends it later in the start-up without an error message (one with
 * an ErrorResponse is postgres.js's to report), with a StartupClosedError. postgres.js hands either
 * to the query waiting for the connection, instead of connecting again. A TLS answer ends the
 * watch (what follows is encrypted).
 */
function expectPostgres(s: Socket, address: string, port: number | undefined): void {
  let first = true;
  let pending: Buffer = Buffer.alloc(0);
  const seen: string[] = [];
  const stop = () => {
    s.off('data', onData).off('end', onEnd);
  };
  const onData = (chunk: Buffer) => {
    if (first) {
      first = false;
      if (!looksLikePostgres(chunk)) {
        stop();
        s.destroy(new NotPostgresError(address, port, describeAnswer(chunk)));
        return;
      }
      if (chunk.length === 1 && TLS_ANSWERS.has(chunk[0]!)) {
        // PostgreSQL's answer to the TLS request: what follows (its start-up, ReadyForQuery) is encrypted.
        answeredAt.add(addressKey(address, port));
        return stop();
      }
    }
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    while (pending.length >= 5) {
      const type = pending[0]!;
      const length = pending.readUInt32BE(1);
      // Not a message postgres.js can read either: left to it (it reports what it makes of it).
      if (length < 4 || length > FIRST_MESSAGE_MAX) return stop();
      if (type === READY_FOR_QUERY) answeredAt.add(addressKey(address, port));
      if (type === READY_FOR_QUERY || type === ERROR_RESPONSE) return stop();
      if (pending.length < 1 + length) break;
      const name = STARTUP_MESSAGES[type] ?? `a message of type ${JSON.stringify(String.fromCharCode(type))}`;
      if (!seen.includes(name) && seen.length < 4) seen.push(name);
      pending = pending.subarray(1 + length);
    }
  };
  const onEnd = () => {
    stop();
    // A cancel request (16 bytes) is answered by the server closing the connection.
    if (s.bytesWritten === CANCEL_REQUEST_BYTES) return;
    if (first) s.destroy(new NotPostgresError(address, port, null, answeredAt.has(addressKey(address, port))));
    else s.destroy(new StartupClosedError(address, port, seen.length > 0 ? seen.join(', ') : 'part of a message'));
  };
  s.on('data', onData).on('end', onEnd);
}

/**
 * A socket to the database whose errors are marked as the database's (connect-errors.ts): a refused
 * or reset connection says "the database" even where no query wrapper is around it (a transaction's
 * BEGIN), and no other client's socket error does. The mark is set before postgres.js sees the error;
 * with no other listener the error is thrown, as an unlistened one is.
 */
export function databaseSocket(): Socket {
  const s = new Socket();
  s.prependListener('error', function marked(err: Error) {
    markDatabaseError(err);
    if (s.listenerCount('error') === 1) throw err;
  });
  return s;
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
      const s = databaseSocket();
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
