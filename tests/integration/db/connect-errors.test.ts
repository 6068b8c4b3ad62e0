// databaseProblem over the errors the driver really throws (through drizzle's query wrapper):
// each becomes one line naming the cause, kind 'config' (exit 2) or 'retryable' (exit 1).
import { sql } from 'drizzle-orm';
import { createServer, type AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { databaseProblem, databaseTarget } from '../../../src/db/connect-errors.js';
import { connectPostgres } from '../../../src/db/client.js';
import { describeError } from '../../../src/services/kill/deadline.js';
import { AppError, exitCodeFor } from '../../../src/errors.js';

async function failureOf(url: string): Promise<unknown> {
  const database = connectPostgres(url, { max: 1 });
  try {
    await database.db.execute(sql`select 1`);
    throw new Error('expected the query to fail');
  } catch (err) {
    return err;
  } finally {
    await database.close().catch(() => {});
  }
}

describe('databaseProblem', () => {
  it('names a refused connection by host:port through the query wrapper, as a failed operation', async () => {
    const s = createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const port = (s.address() as AddressInfo).port;
    await new Promise<void>((r) => s.close(() => r()));
    const url = `postgres://postgres:pw-secret@127.0.0.1:${port}/ctb`;
    const raw = await failureOf(url);
    expect(String((raw as Error).message)).toMatch(/^Failed query/);
    const problem = databaseProblem(raw, url)!;
    expect(problem).toBeInstanceOf(AppError);
    expect(problem).toMatchObject({ kind: 'retryable', code: 'db_refused', message: `The database refused the connection at 127.0.0.1:${port} (ECONNREFUSED).` });
    expect(exitCodeFor(problem)).toBe(1);
    expect(describeError(raw)).toBe(`db_refused: The database refused the connection at 127.0.0.1:${port} (ECONNREFUSED).`);
  });

  it('names a server that accepts but never answers as a timeout', async () => {
    const held = new Set<import('node:net').Socket>();
    const silent = createServer((socket) => void held.add(socket));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as AddressInfo).port;
    const { default: postgres } = await import('postgres');
    const client = postgres(`postgres://postgres@127.0.0.1:${port}/ctb`, { max: 1, connect_timeout: 1 });
    const raw = await client`select 1`.then(() => null, (err: unknown) => err);
    await client.end({ timeout: 1 }).catch(() => {});
    for (const socket of held) socket.destroy();
    await new Promise<void>((r) => silent.close(() => r()));
    expect(databaseProblem(raw)).toMatchObject({ kind: 'retryable', code: 'db_timeout', message: `The database at 127.0.0.1:${port} did not answer in time (CONNECT_TIMEOUT).` });
  });

  it('leaves errors that are not about reaching the database alone', () => {
    expect(databaseProblem(new Error('boom'))).toBeNull();
    expect(databaseProblem(Object.assign(new Error('duplicate key'), { code: '23505' }))).toBeNull();
    expect(databaseProblem(new AppError('usage', 'bad_arguments', 'x'))).toBeNull();
  });

  it('reads the target without its password', () => {
    expect(databaseTarget('postgres://app:s3cret@db.internal:6543/trading')).toEqual({ host: 'db.internal', port: '6543', database: 'trading', user: 'app' });
    expect(JSON.stringify(databaseTarget('postgres://app:s3cret@db.internal/trading'))).not.toContain('s3cret');
  });
});
