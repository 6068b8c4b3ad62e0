import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { execute, openDatabase } from '../../../src/db/client.js';
import { migrate } from '../../../src/db/migrate.js';
import { initialiseInChild, isInitialised, pgliteStartParams } from '../../../src/db/pglite-start.js';
import { copyTemplate, currentTemplateKey, TEMPLATE_DIR, templateProblem } from '../../../src/db/pglite-template.js';
import { projectPath } from '../../../src/paths.js';

const dirs: string[] = [];
const freshDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'ctb-pglite-start-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('the embedded database on a small machine', () => {
  it('initialises a fresh data directory, runs with the small memory settings, and keeps its data across a reopen', async () => {
    const dataDir = freshDir();
    expect(isInitialised(join(dataDir, 'pglite'))).toBe(false);
    const first = await openDatabase({ dataDir });
    try {
      expect(isInitialised(join(dataDir, 'pglite'))).toBe(true);
      const [settings] = await execute<{ shared_buffers: string; maintenance_work_mem: string }>(first.db,
        sql`select current_setting('shared_buffers') as shared_buffers, current_setting('maintenance_work_mem') as maintenance_work_mem`);
      expect(settings).toEqual({ shared_buffers: '16MB', maintenance_work_mem: '16MB' });
      await migrate(first);
      await first.db.execute(sql`insert into bot_state (id) values (1)`);
    } finally {
      await first.close();
    }
    const again = await openDatabase({ dataDir });
    try {
      const rows = await execute<{ n: number }>(again.db, sql`select count(*)::int as n from bot_state`);
      expect(rows[0]?.n).toBe(1);
      const [s] = await execute<{ v: string }>(again.db, sql`select current_setting('shared_buffers') as v`);
      expect(s?.v).toBe('16MB');
    } finally {
      await again.close();
    }
  }, 120_000);

  it('says what failed when a data directory cannot be initialised', async () => {
    const blocked = join(freshDir(), 'not-a-dir');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(blocked, 'a file where the data directory should be');
    await expect(initialiseInChild(join(blocked, 'pglite'), await pgliteStartParams()))
      .rejects.toThrow(/initialising the embedded database failed \(exit code 1\): .+/);
  }, 60_000);

  it("starts a fresh data directory from the build's migrated template: every migration is applied before migrate runs", async () => {
    // The build (vitest's globalSetup runs it) wrote the template with the key this checkout computes.
    expect(templateProblem()).toBeNull();
    expect(JSON.parse(readFileSync(projectPath('dist', 'pglite-template.json'), 'utf8'))).toEqual(currentTemplateKey());
    const dataDir = freshDir();
    const db = await openDatabase({ dataDir });
    try {
      const journal = JSON.parse(readFileSync(projectPath('migrations', 'meta', '_journal.json'), 'utf8')) as { entries: unknown[] };
      const [applied] = await execute<{ n: number }>(db.db, sql`select count(*)::int as n from drizzle.__drizzle_migrations`);
      expect(applied?.n).toBe(journal.entries.length);
      const [s] = await execute<{ v: string }>(db.db, sql`select current_setting('shared_buffers') as v`);
      expect(s?.v).toBe('16MB');
      await migrate(db);
      const [again] = await execute<{ n: number }>(db.db, sql`select count(*)::int as n from drizzle.__drizzle_migrations`);
      expect(again?.n).toBe(journal.entries.length);
    } finally {
      await db.close();
    }
    expect(existsSync(join(dataDir, `pglite.copy-${process.pid}`))).toBe(false);
  }, 120_000);

  it("copies few files: the template holds the bot's one database without free-space or visibility maps, and writes, vacuums and reopens", async () => {
    // Creating each file is most of what a first start's copy costs: initdb's template0 and template1
    // and the maps (*_fsm, *_vm) were 60% of the template's files.
    const files = readdirSync(TEMPLATE_DIR, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
    expect(readdirSync(join(TEMPLATE_DIR, 'base')), 'one database').toHaveLength(1);
    expect(files.filter((f) => /_(fsm|vm)$/.test(f))).toEqual([]);
    const dataDir = freshDir();
    const pgDir = join(dataDir, 'pglite');
    const first = await openDatabase({ dataDir });
    try {
      expect(await execute<{ datname: string }>(first.db, sql`select datname from pg_database`)).toEqual([{ datname: 'postgres' }]);
      // Catalog pages initdb froze (all-visible, their map gone) are written, then everything vacuumed.
      await first.db.execute(sql`create table scratch (x int primary key, y text)`);
      await first.db.execute(sql.raw(`create function scratch_one() returns int language sql as 'select 1'`));
      await first.db.execute(sql`insert into bot_state (id) values (1)`);
      await first.db.execute(sql`insert into scratch select g, repeat('y', 100) from generate_series(1, 3000) g`);
      await first.db.execute(sql`delete from scratch where x % 2 = 0`);
      await first.db.execute(sql`vacuum`);
      await first.db.execute(sql`insert into scratch select g, 'z' from generate_series(3001, 4000) g`);
      const [proc] = await execute<{ path: string }>(first.db, sql`select pg_relation_filepath('pg_proc') as path`);
      expect(existsSync(join(pgDir, `${proc!.path}_vm`)), 'vacuum made the visibility map again').toBe(true);
    } finally {
      await first.close();
    }
    const again = await openDatabase({ dataDir });
    try {
      const [rows] = await execute<{ scratch: number; bot: number; one: number }>(again.db,
        sql`select (select count(*)::int from scratch) as scratch, (select count(*)::int from bot_state) as bot, scratch_one() as one`);
      expect(rows).toEqual({ scratch: 2500, bot: 1, one: 1 });
    } finally {
      await again.close();
    }
  }, 120_000);

  it('never copies the template over a directory that holds anything', () => {
    const pgDir = join(freshDir(), 'pglite');
    mkdirSync(pgDir);
    writeFileSync(join(pgDir, 'somebody-elses-file'), 'keep me');
    expect(() => copyTemplate(pgDir)).toThrow(/ENOTEMPTY|EEXIST/);
    expect(readFileSync(join(pgDir, 'somebody-elses-file'), 'utf8')).toBe('keep me');
  });

  it("a one-shot process validates a WebAssembly function when it first calls it, not every function when compiling", async () => {
    // (module (func (export "f") (result i32) i64.const 0)): a valid module whose one function is not.
    const invalid = [0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 127, 3, 2, 1, 0, 7, 5, 1, 1, 102, 0, 0, 10, 6, 1, 4, 0, 66, 0, 11];
    // pglite-start.ts as plain JavaScript, run by a process of its own: its flags stay V8's for the process.
    const dir = freshDir();
    const { transform } = await import('esbuild');
    const module = await transform(readFileSync(projectPath('src', 'db', 'pglite-start.ts'), 'utf8'), { loader: 'ts', format: 'esm' });
    writeFileSync(join(dir, 'pglite-start.mjs'), module.code);
    writeFileSync(join(dir, 'check.mjs'), `import { useBaselineWasmCompiler } from './pglite-start.mjs';
      const bytes = new Uint8Array(${JSON.stringify(invalid)});
      const outcome = (run) => { try { run(); return 'ok'; } catch (err) { return err.constructor.name; } };
      const before = outcome(() => new WebAssembly.Module(bytes));
      useBaselineWasmCompiler();
      const compiled = outcome(() => new WebAssembly.Module(bytes));
      const called = outcome(() => new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports.f());
      console.log(JSON.stringify({ before, compiled, called }));`);
    const child = spawnSync(process.execPath, [join(dir, 'check.mjs')], { encoding: 'utf8' });
    expect(child.status, child.stderr).toBe(0);
    expect(JSON.parse(child.stdout)).toEqual({ before: 'CompileError', compiled: 'ok', called: 'CompileError' });
  }, 60_000);

  it('without a template, initdb in a child process still initialises a directory', async () => {
    const pgDir = join(freshDir(), 'pglite');
    await initialiseInChild(pgDir, await pgliteStartParams());
    expect(isInitialised(pgDir)).toBe(true);
  }, 120_000);
});

