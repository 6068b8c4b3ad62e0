// Counts the statements a PGlite database runs (each simple query, and each extended-protocol
// statement by its Sync message), for tests of how many a poll sends while idle.
import type { Db } from '../../src/db/client.js';

export interface StatementCount {
  readonly count: number;
  stop(): void;
}

export function countPgliteStatements(db: Db): StatementCount {
  const pg = (db as unknown as { session: { client: { execProtocolRawSync(message: Uint8Array, ...rest: unknown[]): unknown } } }).session.client;
  const own = Object.prototype.hasOwnProperty.call(pg, 'execProtocolRawSync');
  const original = pg.execProtocolRawSync;
  let count = 0;
  pg.execProtocolRawSync = function (message: Uint8Array, ...rest: unknown[]) {
    // One call may carry several messages (type byte, then a length that counts itself).
    const view = new DataView(message.buffer, message.byteOffset, message.byteLength);
    for (let at = 0; at + 5 <= message.byteLength; at += 1 + view.getInt32(at + 1)) {
      if (message[at] === 0x51 /* Q */ || message[at] === 0x53 /* S */) count += 1;
    }
    return original.call(this, message, ...rest);
  };
  return {
    get count() {
      return count;
    },
    stop() {
      if (own) pg.execProtocolRawSync = original;
      else delete (pg as { execProtocolRawSync?: unknown }).execProtocolRawSync;
    },
  };
}
