// A second `ctb start` whose HTTP port is taken (the demo on 3000) is refused before anything starts:
// no feature (the engine and its lease among them) runs, and the error is one line naming the port and
// PORT, a configuration error (exit 2).
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBot } from '../../src/app/runtime.js';
import type { Feature } from '../../src/app/feature.js';
import { testConfig } from '../../src/config/env.js';
import { silentLogger } from '../../src/logger.js';
import { recordingIo } from '../support/cli-io.js';
import { printError } from '../../src/cli/with-context.js';
import { createPostgresTestDb, type TestDatabase } from '../support/db.js';

describe('ctb start on a port already in use', () => {
  let database: TestDatabase;
  let taken: Server;
  let port: number;
  beforeAll(async () => {
    database = await createPostgresTestDb();
    taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    port = (taken.address() as { port: number }).port;
  });
  afterAll(async () => {
    await new Promise((resolve) => taken.close(resolve));
    await database.close();
  });

  it('refuses before any feature starts, with exit 2 and one line naming the port and PORT', async () => {
    const started: string[] = [];
    const spy: Feature = { name: 'spy', roles: ['all'], start: async () => { started.push('spy'); } };
    const config = testConfig({ PORT: String(port), HOST: '127.0.0.1', LOG_DIR: join(tmpdir(), 'ctb-test-logs') });
    const err = await startBot({ config, logger: silentLogger(), database, role: 'all', feed: 'replay', features: [spy] }).then(() => null, (e: unknown) => e);
    expect(started).toEqual([]);
    const io = recordingIo({});
    expect(printError(io, err, config)).toBe(2);
    expect(io.err()).toBe(`error: port ${port} on 127.0.0.1 is already in use (another ctb start, such as the demo, or another server); set PORT to a free port (e.g. PORT=3001) and start again.\n`);
  });
});
