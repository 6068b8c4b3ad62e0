// The engine test context keeps its saved kills to itself: each context gets a DATA_DIR of its own,
// never the repository's ./data, which every test file of a run shares — a kill one file saved
// there (kill-pending.json) was read by another file's halt watcher, which then cancelled and wrote
// follow-ups its test did not expect (halt-cancel-follow-up failed so in CI).
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createPostgresTestDb, type TestDatabase } from '../support/db.js';
import { engineContext } from '../support/engine.js';

describe('engineContext', () => {
  let database: TestDatabase;
  const closers: Array<() => Promise<unknown>> = [];
  afterAll(async () => {
    for (const close of closers) await close().catch(() => {});
    await database?.close();
  });

  it("gives each context a DATA_DIR of its own, not the repository's ./data", async () => {
    database = await createPostgresTestDb();
    const a = await engineContext(database);
    const b = await engineContext(database);
    closers.push(() => a.ctx.close(), () => b.ctx.close());
    const shared = resolve('./data');
    expect(resolve(a.ctx.config.DATA_DIR)).not.toBe(shared);
    expect(resolve(b.ctx.config.DATA_DIR)).not.toBe(shared);
    expect(a.ctx.config.DATA_DIR).not.toBe(b.ctx.config.DATA_DIR);
  });

  it('still takes a DATA_DIR the test names', async () => {
    const dir = join(tmpdir(), 'ctb-named-data-dir');
    const named = await engineContext(database, { DATA_DIR: dir });
    closers.push(() => named.ctx.close());
    expect(named.ctx.config.DATA_DIR).toBe(dir);
  });
});
