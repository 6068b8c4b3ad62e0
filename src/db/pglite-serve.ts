// Serves the bot's embedded database (PGlite) to other local processes (the CLI) over a unix socket
// speaking the PostgreSQL wire protocol.
//
// PGlite is ONE session. A client's work is a run of messages — an extended-protocol cycle (Parse, Bind,
// Describe, Execute … Sync) or a whole transaction (BEGIN … COMMIT) — and nothing else may run in that
// session in between: not another client's messages, and not the bot's own queries (which would clobber
// the client's unnamed statement, read its rows, or run inside its read-only transaction). So a client
// takes PGlite's transaction mutex — the one the bot's own query(), exec() and transaction() take for
// their whole length — at its first message and holds it until PostgreSQL answers ReadyForQuery with
// status idle ('I'). Each message itself runs under runExclusive (the query mutex), as PGlite requires.
//
// A client that stops talking while it holds the session (idle in a transaction, or half-way through a
// cycle) would stop the bot: after `idleInTransactionMs` its connection is closed with a FATAL error
// naming why, its transaction rolled back, and the session handed on. The bot's own work is never aborted.
import { createServer, type Server, type Socket } from 'node:net';
import type { PGlite } from '@electric-sql/pglite';

const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const CANCEL_REQUEST = 80877102;
const TYPE_TERMINATE = 0x58; // 'X'
const TYPE_READY = 0x5a; // 'Z'
const SYNC = Uint8Array.from([0x53, 0, 0, 0, 4]); // 'S'

export const DEFAULT_IDLE_IN_TRANSACTION_MS = 5_000;

export interface PgliteSocketServerOptions {
  pg: PGlite;
  path: string;
  maxConnections?: number;
  /** How long a client may hold the session without sending anything before it is disconnected. */
  idleInTransactionMs?: number;
}

export interface PgliteSocketServer {
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** A simple Query message. */
function queryMessage(text: string): Uint8Array {
  const body = Buffer.from(`${text}\0`, 'utf8');
  const out = Buffer.alloc(5 + body.length);
  out[0] = 0x51; // 'Q'
  out.writeInt32BE(4 + body.length, 1);
  body.copy(out, 5);
  return out;
}

/** An ErrorResponse with severity, SQLSTATE and message. */
export function errorResponse(severity: 'ERROR' | 'FATAL', code: string, message: string): Buffer {
  const fields = Buffer.concat([
    Buffer.from(`S${severity}\0`, 'utf8'),
    Buffer.from(`V${severity}\0`, 'utf8'),
    Buffer.from(`C${code}\0`, 'utf8'),
    Buffer.from(`M${message}\0`, 'utf8'),
    Buffer.from([0]),
  ]);
  const out = Buffer.alloc(5 + fields.length);
  out[0] = 0x45; // 'E'
  out.writeInt32BE(4 + fields.length, 1);
  fields.copy(out, 5);
  return out;
}

/**
 * Follows the backend's message stream across chunks and remembers the transaction status of the
 * last ReadyForQuery seen ('I' idle, 'T' in a transaction, 'E' in a failed one), or null if none.
 */
export class ReadyForQueryScanner {
  private header: number[] = [];
  private remaining = 0;
  private type = 0;
  private atBodyStart = false;
  last: string | null = null;

  feed(chunk: Uint8Array): void {
    let i = 0;
    while (i < chunk.length) {
      if (this.remaining === 0) {
        this.header.push(chunk[i]!);
        i++;
        if (this.header.length === 5) {
          this.type = this.header[0]!;
          this.remaining = ((this.header[1]! << 24) | (this.header[2]! << 16) | (this.header[3]! << 8) | this.header[4]!) - 4;
          this.header = [];
          this.atBodyStart = true;
        }
        continue;
      }
      if (this.atBodyStart && this.type === TYPE_READY) this.last = String.fromCharCode(chunk[i]!);
      this.atBodyStart = false;
      const n = Math.min(this.remaining, chunk.length - i);
      i += n;
      this.remaining -= n;
    }
  }
}

type PgWithTransactionMutex = PGlite & { _runExclusiveTransaction<T>(fn: () => Promise<T>): Promise<T> };

export function createPgliteSocketServer(opts: PgliteSocketServerOptions): PgliteSocketServer {
  const pg = opts.pg as PgWithTransactionMutex;
  const maxConnections = opts.maxConnections ?? 16;
  const idleMs = opts.idleInTransactionMs ?? DEFAULT_IDLE_IN_TRANSACTION_MS;
  const connections = new Set<Connection>();
  let server: Server | null = null;

  /** Takes the session (PGlite's transaction mutex) and resolves with the function that gives it back. */
  function takeSession(): Promise<() => void> {
    return new Promise((resolveTaken, rejectTaken) => {
      pg._runExclusiveTransaction(() => new Promise<void>((release) => resolveTaken(release))).catch(rejectTaken);
    });
  }

  class Connection {
    private buffer: Buffer = Buffer.alloc(0);
    private started = false;
    private closed = false;
    private release: (() => void) | null = null;
    private idleTimer: NodeJS.Timeout | null = null;
    /** Every piece of work for this connection runs in order on this chain. */
    chain: Promise<void> = Promise.resolve();

    constructor(private readonly socket: Socket) {
      socket.setNoDelay(true);
      socket.on('data', (data) => this.onData(data));
      socket.on('error', () => this.close());
      socket.on('close', () => this.close());
    }

    private enqueue(work: () => Promise<void>): void {
      this.chain = this.chain.then(work).catch(() => this.close());
    }

    private onData(data: Buffer): void {
      if (this.closed) return;
      this.buffer = this.buffer.length ? Buffer.concat([this.buffer, data]) : data;
      for (;;) {
        if (!this.started) {
          if (this.buffer.length < 8) return;
          const len = this.buffer.readInt32BE(0);
          const code = this.buffer.readInt32BE(4);
          if (len === 8 && (code === SSL_REQUEST || code === GSSENC_REQUEST)) {
            this.buffer = this.buffer.subarray(8);
            this.socket.write('N');
            continue;
          }
          if (len === 16 && code === CANCEL_REQUEST) {
            // PGlite has no backend to signal; a cancel request gets no answer.
            this.socket.end();
            this.close();
            return;
          }
          if (this.buffer.length < len) return;
          const startup = this.buffer.subarray(0, len);
          this.buffer = this.buffer.subarray(len);
          this.started = true;
          this.enqueue(() => this.run(new Uint8Array(startup)));
          continue;
        }
        if (this.buffer.length < 5) return;
        const total = 1 + this.buffer.readInt32BE(1);
        if (this.buffer.length < total) return;
        const message = this.buffer.subarray(0, total);
        this.buffer = this.buffer.subarray(total);
        if (message[0] === TYPE_TERMINATE) {
          this.socket.end();
          this.close();
          return;
        }
        this.enqueue(() => this.run(new Uint8Array(message)));
      }
    }

    private async run(message: Uint8Array): Promise<void> {
      if (this.closed) return;
      this.clearIdleTimer();
      if (!this.release) {
        const release = await takeSession();
        if (this.closed) {
          release();
          return;
        }
        this.release = release;
      }
      const scanner = new ReadyForQueryScanner();
      await pg.runExclusive(() =>
        pg.execProtocolRawStream(message, {
          onRawData: (bytes: Uint8Array) => {
            scanner.feed(bytes);
            // Copied: PGlite may reuse the memory behind `bytes`.
            if (!this.closed && this.socket.writable) this.socket.write(Buffer.from(bytes));
          },
        }),
      );
      if (scanner.last === 'I') {
        const release = this.release;
        this.release = null;
        release();
      } else {
        this.armIdleTimer();
      }
    }

    private armIdleTimer(): void {
      this.clearIdleTimer();
      if (this.closed) return;
      this.idleTimer = setTimeout(() => {
        this.idleTimer = null;
        if (this.closed || !this.release) return;
        const why = `terminating connection: it held the bot's embedded database (one session) for more than ${idleMs} ms (PGLITE_IDLE_IN_TRANSACTION) without sending anything, inside a transaction or a protocol cycle; the bot's own work was waiting. Its transaction was rolled back.`;
        if (this.socket.writable) this.socket.write(errorResponse('FATAL', '25P03', why));
        this.socket.end();
        this.close();
      }, idleMs);
      this.idleTimer.unref();
    }

    private clearIdleTimer(): void {
      if (this.idleTimer) clearTimeout(this.idleTimer);
      this.idleTimer = null;
    }

    /** Rolls back whatever this client left open and gives the session back. */
    private async endSession(): Promise<void> {
      this.clearIdleTimer();
      const release = this.release;
      if (!release) return;
      this.release = null;
      try {
        await pg.runExclusive(async () => {
          // Sync ends a half-sent extended-protocol cycle (and any error state it is in); ROLLBACK ends an
          // open transaction (outside one it only warns).
          await pg.execProtocolRaw(SYNC);
          await pg.execProtocolRaw(queryMessage('ROLLBACK'));
        });
      } finally {
        release();
      }
    }

    close(): void {
      if (this.closed) return;
      this.closed = true;
      connections.delete(this);
      this.clearIdleTimer();
      this.socket.destroy();
      this.chain = this.chain.then(() => this.endSession()).catch(() => {});
    }
  }

  return {
    async start() {
      await pg.waitReady;
      server = createServer((socket) => {
        if (connections.size >= maxConnections) {
          socket.end(errorResponse('FATAL', '53300', `too many connections to the bot's embedded database (at most ${maxConnections})`));
          return;
        }
        connections.add(new Connection(socket));
      });
      await new Promise<void>((resolveListen, rejectListen) => {
        server!.once('error', rejectListen);
        server!.listen(opts.path, () => {
          server!.off('error', rejectListen);
          resolveListen();
        });
      });
    },
    async stop() {
      const all = [...connections];
      for (const c of all) c.close();
      await Promise.all(all.map((c) => c.chain));
      const s = server;
      server = null;
      if (s) await new Promise<void>((resolveClose) => s.close(() => resolveClose()));
    },
  };
}
